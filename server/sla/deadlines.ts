import type { DbClient } from "../platform/db/types.ts";

export type DeadlineKind = "offer_timeout" | "arrival_warning" | "arrival";

/**
 * When to check that an incident's arrival deadline will be met: `leadS` before it, or at once when the
 * first estimate already misses it. Pure.
 */
export function warningDueAt(input: { now: Date; arrivalDeadlineAt: Date; leadS: number; estimatedArrivalAt: Date | null }): Date {
  if (input.estimatedArrivalAt && input.estimatedArrivalAt > input.arrivalDeadlineAt) return input.now;
  const due = new Date(input.arrivalDeadlineAt.getTime() - input.leadS * 1000);
  return due < input.now ? input.now : due;
}

/** Will the best estimate miss the deadline? No estimate (nobody assigned) counts as a miss. */
export function predictsMiss(estimatedArrivalAt: Date | null, arrivalDeadlineAt: Date): boolean {
  return estimatedArrivalAt === null || estimatedArrivalAt > arrivalDeadlineAt;
}

export async function addDeadline(
  db: DbClient,
  row: { incidentId: number; kind: DeadlineKind; dueAt: Date; data?: Record<string, number | string | boolean> },
): Promise<void> {
  await db.slaDeadline.create({ data: { incidentId: row.incidentId, kind: row.kind, dueAt: row.dueAt, data: row.data } });
}

/** The incident's arrival deadline rows, once: a warning check and the deadline itself. */
export async function ensureArrivalDeadlines(
  db: DbClient,
  incident: { id: number; arrivalDeadlineAt: Date },
  options: { now: Date; leadS: number; estimatedArrivalAt: Date | null },
): Promise<void> {
  const existing = await db.slaDeadline.count({ where: { incidentId: incident.id, kind: "arrival" } });
  if (existing > 0) return;
  await db.slaDeadline.createMany({
    data: [
      {
        incidentId: incident.id,
        kind: "arrival_warning",
        dueAt: warningDueAt({ ...options, arrivalDeadlineAt: incident.arrivalDeadlineAt }),
      },
      { incidentId: incident.id, kind: "arrival", dueAt: incident.arrivalDeadlineAt },
    ],
  });
}

export async function cancelOfferTimeout(db: DbClient, offerId: number, now: Date): Promise<void> {
  await db.$executeRaw`
    UPDATE sla_deadlines SET "cancelledAt" = ${now}
    WHERE kind = 'offer_timeout' AND "firedAt" IS NULL AND "cancelledAt" IS NULL AND (data->>'offerId')::int = ${offerId}`;
}

export async function cancelIncidentDeadlines(db: DbClient, incidentId: number, now: Date, kinds: DeadlineKind[]): Promise<void> {
  await db.slaDeadline.updateMany({
    where: { incidentId, kind: { in: kinds }, firedAt: null, cancelledAt: null },
    data: { cancelledAt: now },
  });
}
