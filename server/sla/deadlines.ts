import { Prisma } from "../platform/db/generated/client.ts";
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

/**
 * The incident's arrival deadline rows (a warning check and the deadline itself), once, as one INSERT
 * (no count first): the dispatch path writes them inside its offer statement for every incident of a
 * power cut. `when`: an extra SQL condition on the insert.
 */
export function arrivalDeadlinesInsertSql(
  incident: { id: number; arrivalDeadlineAt: Date },
  options: { now: Date; leadS: number; estimatedArrivalAt: Date | null },
  when: Prisma.Sql = Prisma.sql`true`,
): Prisma.Sql {
  const warningAt = warningDueAt({ ...options, arrivalDeadlineAt: incident.arrivalDeadlineAt });
  return Prisma.sql`
    INSERT INTO sla_deadlines ("incidentId", kind, "dueAt")
    SELECT ${incident.id}::int, due.kind, due.at
    FROM (VALUES ('arrival_warning', ${warningAt}::timestamp(3)), ('arrival', ${incident.arrivalDeadlineAt}::timestamp(3))) AS due(kind, at)
    WHERE ${when} AND NOT EXISTS (SELECT 1 FROM sla_deadlines WHERE "incidentId" = ${incident.id}::int AND kind = 'arrival')`;
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
