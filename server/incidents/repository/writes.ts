import { Prisma } from "../../platform/db/generated/client.ts";
import type { DbClient } from "../../platform/db/types.ts";
import { LOCKS } from "../../platform/db/locks.ts";
import { checkTransition, milestoneColumn, openStatuses, type IncidentStatus } from "../lifecycle.ts";

export interface Actor {
  type: "user" | "device" | "team" | "system";
  id: string | null;
}

export interface OpenIncidentInput {
  elevatorId: number;
  kind: "entrapment" | "fault" | "other";
  source: "call" | "alarm" | "manual";
  reportedAt: Date;
  actor: Actor;
  reason?: string;
  data?: Prisma.InputJsonValue;
}

/** How reports are merged, from the configuration (INCIDENT_MERGE_WINDOW_MIN, MASS_EVENT_*). */
export interface IncidentPolicy {
  /** A report this soon after the elevator's last incident ended is linked to it as a repeat. */
  mergeWindowMs: number;
  /** Incidents counted for a mass event are those reported within this span. */
  massWindowMs: number;
  /** That many incidents in one site (building / estate) within the window form a mass event. */
  massSiteMin: number;
  /** That many incidents in one district within the window form an area mass event. */
  massDistrictMin: number;
}

export const defaultIncidentPolicy: IncidentPolicy = {
  mergeWindowMs: 30 * 60_000,
  massWindowMs: 10 * 60_000,
  massSiteMin: 3,
  massDistrictMin: 10,
};

export class InvalidTransitionError extends Error {
  constructor(
    readonly from: IncidentStatus,
    readonly to: IncidentStatus,
    readonly allowed: IncidentStatus[],
  ) {
    super(`an incident in status ${from} cannot become ${to}; allowed next: ${allowed.join(", ") || "none"}`);
  }
}

/**
 * The incident code as SQL over the new id: `TJ<Asia/Shanghai calendar day>-<id, at least 6 digits>`, as
 * dispatchers read it. Built in the INSERT so that taking the id and storing the row is one round trip.
 */
function incidentCodeSql(id: Prisma.Sql, at: Date): Prisma.Sql {
  const localDay = new Date(at.getTime() + 8 * 3600_000).toISOString().slice(0, 10).replaceAll("-", "");
  // lpad to at least 6: plain lpad would cut a longer id short.
  return Prisma.sql`${`TJ${localDay}-`}::text || lpad(${id}::text, greatest(6, length(${id}::text)), '0')`;
}

/**
 * Opens an incident for an elevator, or returns the one already open (one incident per elevator event).
 * Must run inside a transaction: the advisory lock on the elevator serialises concurrent reports of the
 * same elevator across processes until commit.
 */
export async function openOrAttachIncident(
  tx: Prisma.TransactionClient,
  input: OpenIncidentInput,
  policy: Pick<IncidentPolicy, "mergeWindowMs"> = defaultIncidentPolicy,
): Promise<{ incidentId: number; created: boolean; repeatOf?: number }> {
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(${LOCKS.elevatorReport}::int, ${input.elevatorId}::int)`;
  // Everything else in one statement once the lock is held (it must be a statement of its own after the
  // lock: a statement's snapshot is taken when it starts). `found` reads the elevator's open incident if
  // any, its last incident closed within the merge window and the district's arrival limit; only when
  // nothing is open are the incident row and its first timeline entry written.
  //
  // A report shortly after the last incident of this elevator ended is most likely the same fault coming
  // back (or a dismissal that was wrong): it still opens a new incident, because attaching it to a closed
  // one would keep a fresh entrapment out of the dispatchers' queue, but both sides are linked (`repeatOf`
  // in the new entry's data, merged into an object `data`; a `repeat_report` entry on the old incident).
  const closedSince = new Date(input.reportedAt.getTime() - policy.mergeWindowMs);
  const data = jsonbSql(input.data);
  const linkedData = Prisma.sql`CASE
    WHEN found."recentId" IS NULL THEN ${data}
    WHEN jsonb_typeof(${data}) = 'object' THEN ${data} || jsonb_build_object('repeatOf', found."recentId")
    ELSE jsonb_build_object('repeatOf', found."recentId") END`;
  const reported: EventInput = { type: "reported", toStatus: "reported", actor: input.actor, at: input.reportedAt, reason: input.reason };
  const repeatReport: EventInput = { type: "repeat_report", actor: input.actor, at: input.reportedAt };
  const [outcome] = (await tx.$queryRaw`
    WITH found AS (
      SELECT d.id AS "districtId", d."arrivalLimitMinutes",
             (SELECT o.id FROM incidents o
              WHERE o."elevatorId" = e.id AND o.status::text IN (${Prisma.join(openStatuses)})
              ORDER BY o."reportedAt" DESC LIMIT 1) AS "openId",
             r.id AS "recentId", r.status AS "recentStatus"
      FROM elevators e JOIN sites s ON s.id = e."siteId" JOIN districts d ON d.id = s."districtId"
      LEFT JOIN LATERAL (
        SELECT c.id, c.status::text AS status FROM incidents c
        WHERE c."elevatorId" = e.id AND c."closedAt" >= ${closedSince}::timestamp(3)
        ORDER BY c."closedAt" DESC LIMIT 1) r ON true
      WHERE e.id = ${input.elevatorId}::int),
    next AS (SELECT nextval(pg_get_serial_sequence('incidents', 'id'))::int AS id FROM found WHERE found."openId" IS NULL),
    created AS (
      INSERT INTO incidents (id, code, kind, source, "elevatorId", "districtId", "reportedAt", "arrivalDeadlineAt", "updatedAt")
      SELECT next.id, ${incidentCodeSql(Prisma.sql`next.id`, input.reportedAt)}, ${input.kind}::"IncidentKind",
             ${input.source}::"IncidentSource", ${input.elevatorId}::int, found."districtId", ${input.reportedAt}::timestamp(3),
             ${input.reportedAt}::timestamp(3) + make_interval(mins => found."arrivalLimitMinutes"), now()
      FROM next, found
      RETURNING id),
    first_entry AS (
      INSERT INTO incident_events ${eventColumnsSql}
      SELECT ${eventValuesSql(Prisma.sql`created.id`, reported, { data: linkedData })} FROM created, found),
    repeat_entry AS (
      INSERT INTO incident_events ${eventColumnsSql}
      SELECT ${eventValuesSql(Prisma.sql`found."recentId"`, repeatReport, {
        data: Prisma.sql`jsonb_build_object('newIncidentId', created.id)`,
        reason: Prisma.sql`'elevator reported again ' || CASE found."recentStatus" WHEN 'closed' THEN 'after closing' ELSE 'after ' || found."recentStatus" END`,
      })}
      FROM created, found WHERE found."recentId" IS NOT NULL)
    SELECT found."openId", found."recentId", created.id AS "createdId" FROM found LEFT JOIN created ON true`) as {
    openId: number | null;
    recentId: number | null;
    createdId: number | null;
  }[];
  if (!outcome) throw new Error(`elevator ${input.elevatorId} does not exist`);
  if (outcome.openId !== null) return { incidentId: outcome.openId, created: false };
  return { incidentId: outcome.createdId!, created: true, ...(outcome.recentId !== null ? { repeatOf: outcome.recentId } : {}) };
}

export interface EventInput {
  type: string;
  actor: Actor;
  at: Date;
  fromStatus?: IncidentStatus;
  toStatus?: IncidentStatus;
  reason?: string;
  lat?: number;
  lng?: number;
  data?: Prisma.InputJsonValue;
}

function eventRow(incidentId: number, event: EventInput) {
  return {
    incidentId,
    type: event.type,
    fromStatus: event.fromStatus,
    toStatus: event.toStatus,
    actorType: event.actor.type,
    actorId: event.actor.id,
    at: event.at,
    reason: event.reason,
    lat: event.lat,
    lng: event.lng,
    data: event.data,
  };
}

/** incident_events' columns in the order of eventValuesSql, for statements that append an entry beside another change. */
export const eventColumnsSql = Prisma.sql`("incidentId", type, "fromStatus", "toStatus", "actorType", "actorId", at, reason, lat, lng, data)`;

/**
 * One timeline entry as SQL values (typed casts, so they also work in `INSERT … SELECT`), for a statement
 * that makes a change and appends its entry in one round trip. `incidentId` is SQL so that it can name a
 * row the same statement creates; `computed` likewise gives `data` or `reason` as SQL when they depend on
 * rows of the same statement (e.g. a new offer's id).
 */
export function eventValuesSql(
  incidentId: Prisma.Sql,
  event: EventInput,
  computed: { data?: Prisma.Sql; reason?: Prisma.Sql } = {},
): Prisma.Sql {
  const reason = computed.reason ?? Prisma.sql`${event.reason ?? null}::text`;
  const data = computed.data ?? jsonbSql(event.data);
  return Prisma.sql`${incidentId}, ${event.type}::text, ${event.fromStatus ?? null}::"IncidentStatus", ${event.toStatus ?? null}::"IncidentStatus",
    ${event.actor.type}::"ActorType", ${event.actor.id}::text, ${event.at}::timestamp(3), ${reason},
    ${event.lat ?? null}::float8, ${event.lng ?? null}::float8, ${data}`;
}

/** A JSON value as a jsonb parameter (NULL when absent, as Prisma stores an omitted Json field). */
export function jsonbSql(value: Prisma.InputJsonValue | undefined): Prisma.Sql {
  return Prisma.sql`${value === undefined ? null : JSON.stringify(value)}::jsonb`;
}

export async function appendEvent(db: DbClient, incidentId: number, event: EventInput): Promise<void> {
  await db.incidentEvent.create({ data: eventRow(incidentId, event) });
}

/** What a lifecycle step is checked against: the recorded cause, the first report and the latest entry's time. */
export async function transitionContext(db: DbClient, incidentId: number): Promise<{ causeClass: string | null; reportedAt: Date; lastEntryAt: Date | null } | null> {
  const incident = await db.incident.findUnique({ where: { id: incidentId }, select: { causeClass: true, reportedAt: true } });
  if (!incident) return null;
  const last = await db.incidentEvent.findFirst({ where: { incidentId }, orderBy: { at: "desc" }, select: { at: true } });
  return { ...incident, lastEntryAt: last?.at ?? null };
}

/** Counts, cause class and text recorded with a step; a change the timeline shows bumps the version. */
export async function setIncidentDetails(
  db: DbClient,
  incidentId: number,
  details: { trappedCount?: number; injuredCount?: number; causeClass?: string; causeText?: string },
  options: { bumpVersion: boolean },
): Promise<void> {
  if (!Object.keys(details).length) return;
  await db.incident.update({ where: { id: incidentId }, data: { ...details, ...(options.bumpVersion ? { version: { increment: 1 } } : {}) } });
}

/** Members of a mass event, by id. */
export async function massEventMembers(db: DbClient, massEventId: number): Promise<number[] | null> {
  const event = await db.massEvent.findUnique({ where: { id: massEventId }, select: { incidents: { select: { id: true }, orderBy: { id: "asc" } } } });
  return event ? event.incidents.map((i) => i.id) : null;
}

/** Closes a mass event once none of its members is open. */
export async function closeMassEventIfEnded(db: DbClient, massEventId: number, at: Date): Promise<void> {
  const members = await db.incident.findMany({ where: { massEventId }, select: { status: true } });
  if (members.length && members.every((m) => !openStatuses.includes(m.status as never))) {
    await db.massEvent.updateMany({ where: { id: massEventId, closedAt: null }, data: { closedAt: at } });
  }
}

/** Trapped / injured counts as the caller or the crew reported them. */
export async function setIncidentCounts(db: DbClient, incidentId: number, counts: { trappedCount?: number; injuredCount?: number }): Promise<void> {
  if (counts.trappedCount === undefined && counts.injuredCount === undefined) return;
  await db.incident.update({ where: { id: incidentId }, data: counts });
}

/** The same entry on many incidents' timelines in one statement (a mass event's members). */
export async function appendEventToMany(db: DbClient, incidentIds: readonly number[], event: EventInput): Promise<void> {
  if (incidentIds.length) await db.incidentEvent.createMany({ data: incidentIds.map((id) => eventRow(id, event)) });
}

/** What a transition is checked against, read under the row lock. */
export interface LockedIncident {
  status: IncidentStatus;
  kind: "entrapment" | "fault" | "other";
}

/** Locks the incident row until commit (concurrent changes of one incident queue here) and reads its state. */
export async function lockIncidentRow(tx: Prisma.TransactionClient, incidentId: number): Promise<LockedIncident | null> {
  const rows = (await tx.$queryRaw`
    SELECT status::text AS status, kind::text AS kind FROM incidents WHERE id = ${incidentId} FOR UPDATE`) as LockedIncident[];
  return rows[0] ?? null;
}

/**
 * Moves an incident to a new status inside a transaction: checks the state machine, sets the milestone
 * time the first time, bumps the version and appends the transition to the timeline.
 *
 * `locked`: what the caller read with lockIncidentRow in this transaction and has not changed since; it
 * saves locking and reading the row a second time.
 */
export async function transitionIncident(
  tx: Prisma.TransactionClient,
  incidentId: number,
  to: IncidentStatus,
  event: Omit<EventInput, "type" | "fromStatus" | "toStatus">,
  locked?: LockedIncident,
): Promise<void> {
  const current = locked ?? (await lockIncidentRow(tx, incidentId));
  if (!current) throw new Error(`incident ${incidentId} does not exist`);
  const check = checkTransition(current.status, to, current.kind);
  if (!check.ok) throw new InvalidTransitionError(check.from, check.to, check.allowed);
  const column = milestoneColumn[to as keyof typeof milestoneColumn] as string | undefined;
  // One statement: the milestone keeps the first time the status was reached (COALESCE; the column name
  // comes from the fixed milestone map, never from input), and the transition's timeline entry is
  // appended by the same statement.
  const milestone = column
    ? Prisma.sql`, ${Prisma.raw(`"${column}"`)} = COALESCE(${Prisma.raw(`"${column}"`)}, ${event.at}::timestamp(3))`
    : Prisma.empty;
  const entry = { ...event, type: "transition", fromStatus: current.status, toStatus: to };
  await tx.$executeRaw`
    WITH moved AS (
      UPDATE incidents SET status = ${to}::"IncidentStatus", version = version + 1, "updatedAt" = now() ${milestone}
      WHERE id = ${incidentId}::int
      RETURNING id)
    INSERT INTO incident_events ${eventColumnsSql}
    SELECT ${eventValuesSql(Prisma.sql`moved.id`, entry)} FROM moved`;
}
