/**
 * Every advisory lock key the platform takes, named once. Two-key locks are `pg_advisory_xact_lock(key,
 * id)`: the key names what is locked, the second number which one. Keys must not collide, and PostgreSQL
 * keeps one-key (bigint) and two-key (int, int) locks apart, so the migrator's and the seed's one-key
 * locks cannot meet the others.
 *
 * Lock order, and why it cannot deadlock: a transaction that needs several takes them in this order and
 * never backwards —
 *   1. `elevatorReport` (alarm and call transactions: one incident per elevator event),
 *   2. the incident row (`SELECT … FOR UPDATE` in lockIncidentRow: every change of an incident),
 *   3. team rows (the conditional booking UPDATE, or `FOR UPDATE` when a team's status is recomputed).
 * Nothing holds a team row and then asks for an incident. `massEventDistrict` and `callDelivery` are
 * taken first and alone in their own transactions; mass-event grouping then updates incident rows, which
 * step 2 of another transaction may hold, but that transaction never waits for a district lock.
 */
export const LOCKS = {
  /** Reports (alarm, call) of one elevator: finding its open incident or opening one is serialised. */
  elevatorReport: 96333,
  /** Mass-event grouping of one district: one pass at a time, across processes. */
  massEventDistrict: 96335,
  /** Telephony deliveries of one call (by hashtext of the PBX's call id): ringing and answered racing make one row. */
  callDelivery: 96336,
  /** Loading the demo city into an empty database (one-key lock). */
  seed: 96_333_001,
  /** Prisma's own migrate lock (one-key), so `prisma migrate` and the in-process migrator exclude each other. */
  prismaMigrate: 72707369,
} as const;
