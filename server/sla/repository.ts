import { Prisma } from "../platform/db/generated/client.ts";
import type { DbClient } from "../platform/db/types.ts";
import type { DeadlineKind } from "./deadlines.ts";

export interface FiredDeadline {
  id: number;
  incidentId: number;
  kind: DeadlineKind;
  dueAt: Date;
  data: Record<string, unknown> | null;
}

/**
 * The incident's arrival deadline rows (a warning check and the deadline itself), once, as one INSERT
 * (no count first): the dispatch path writes them inside its offer statement for every incident of a
 * power cut.
 */
export function arrivalDeadlinesInsertSql(incidentId: number, due: { arrivalDeadlineAt: Date; warningAt: Date }): Prisma.Sql {
  return Prisma.sql`
    INSERT INTO sla_deadlines ("incidentId", kind, "dueAt")
    SELECT ${incidentId}::int, due.kind, due.at
    FROM (VALUES ('arrival_warning', ${due.warningAt}::timestamp(3)), ('arrival', ${due.arrivalDeadlineAt}::timestamp(3))) AS due(kind, at)
    WHERE NOT EXISTS (SELECT 1 FROM sla_deadlines WHERE "incidentId" = ${incidentId}::int AND kind = 'arrival')`;
}

export async function insertArrivalDeadlines(db: DbClient, incidentId: number, due: { arrivalDeadlineAt: Date; warningAt: Date }): Promise<void> {
  await db.$executeRaw`${arrivalDeadlinesInsertSql(incidentId, due)}`;
}

export async function cancelOfferTimeout(db: DbClient, offerId: number, now: Date): Promise<void> {
  await db.$executeRaw`
    UPDATE sla_deadlines SET "cancelledAt" = ${now}::timestamp(3)
    WHERE kind = 'offer_timeout' AND "firedAt" IS NULL AND "cancelledAt" IS NULL AND (data->>'offerId')::int = ${offerId}::int`;
}

export async function cancelIncidentDeadlines(db: DbClient, incidentId: number, now: Date, kinds: readonly DeadlineKind[]): Promise<void> {
  await db.$executeRaw`
    UPDATE sla_deadlines SET "cancelledAt" = ${now}::timestamp(3)
    WHERE "incidentId" = ${incidentId}::int AND kind IN (${Prisma.join(kinds)}) AND "firedAt" IS NULL AND "cancelledAt" IS NULL`;
}

/**
 * Marks due rows fired and returns them, taking each row once across processes (`SKIP LOCKED`). The caller
 * does this inside a unit of work that writes one outbox row per fired deadline, so "fired" and "its
 * check will run" commit together.
 */
export async function fireDue(db: DbClient, now: Date, limit: number): Promise<FiredDeadline[]> {
  const rows = (await db.$queryRaw`
    UPDATE sla_deadlines SET "firedAt" = ${now}::timestamp(3)
    WHERE id IN (
      SELECT id FROM sla_deadlines
      WHERE "firedAt" IS NULL AND "cancelledAt" IS NULL AND "dueAt" <= ${now}::timestamp(3)
      ORDER BY "dueAt"
      LIMIT ${limit}::int
      FOR UPDATE SKIP LOCKED)
    RETURNING id, "incidentId", kind, "dueAt", data`) as FiredDeadline[];
  return rows.sort((a, b) => a.dueAt.getTime() - b.dueAt.getTime() || a.id - b.id);
}
