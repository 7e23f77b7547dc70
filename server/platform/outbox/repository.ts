import { Prisma, type PrismaClient } from "../db/generated/client.ts";
import type { DbClient } from "../db/types.ts";
import type { OutboxMessage, PendingEvent, Topic } from "./topics.ts";

interface Row {
  id: number;
  topic: Topic;
  payload: unknown;
  attempts: number;
}

const toMessage = (row: Row) => row as OutboxMessage;

/** The outbox table's SQL, in one place. */
export class OutboxRepository {
  constructor(private readonly prisma: PrismaClient) {}

  /**
   * Writes the events of a transaction, already claimed by the writing process until `claimedUntil`:
   * it delivers them right after its commit, and nobody else takes them unless it dies first.
   */
  async insertClaimed(tx: DbClient, events: readonly PendingEvent[], now: Date, claimedUntil: Date): Promise<OutboxMessage[]> {
    const values = events.map(
      (e) => Prisma.sql`(${e.topic}::text, ${JSON.stringify(e.payload)}::jsonb, ${now}::timestamp(3), ${now}::timestamp(3), ${claimedUntil}::timestamp(3), 1)`,
    );
    const rows = (await tx.$queryRaw`
      INSERT INTO outbox (topic, payload, "createdAt", "availableAt", "claimedUntil", attempts)
      VALUES ${Prisma.join(values)}
      RETURNING id, topic, payload, attempts`) as Row[];
    return rows.map(toMessage);
  }

  /** Due rows nobody holds (never delivered, a failed attempt's backoff over, or a dead process's lease run out). */
  async claimDue(now: Date, claimedUntil: Date, limit: number): Promise<OutboxMessage[]> {
    const rows = (await this.prisma.$queryRaw`
      UPDATE outbox SET "claimedUntil" = ${claimedUntil}::timestamp(3), attempts = attempts + 1
      WHERE id IN (
        SELECT id FROM outbox
        WHERE "availableAt" <= ${now}::timestamp(3) AND ("claimedUntil" IS NULL OR "claimedUntil" < ${now}::timestamp(3))
        ORDER BY id
        LIMIT ${limit}::int
        FOR UPDATE SKIP LOCKED)
      RETURNING id, topic, payload, attempts`) as Row[];
    return rows.map(toMessage).sort((a, b) => a.id - b.id);
  }

  /** Keeps the claims of rows this process still holds. */
  async renew(ids: readonly number[], claimedUntil: Date): Promise<void> {
    if (ids.length) await this.prisma.$executeRaw`UPDATE outbox SET "claimedUntil" = ${claimedUntil}::timestamp(3) WHERE id IN (${Prisma.join(ids)})`;
  }

  async delete(ids: readonly number[]): Promise<void> {
    if (ids.length) await this.prisma.$executeRaw`DELETE FROM outbox WHERE id IN (${Prisma.join(ids)})`;
  }

  /** A failed delivery: free the row again at `availableAt`, with the error kept for whoever looks. */
  async retryLater(id: number, availableAt: Date, error: string): Promise<void> {
    await this.prisma.$executeRaw`
      UPDATE outbox SET "claimedUntil" = NULL, "availableAt" = ${availableAt}::timestamp(3), "lastError" = ${error.slice(0, 2000)}
      WHERE id = ${id}::int`;
  }

  /**
   * Drops every claim. Only for a database no other process can hold (an embedded PGlite folder): there
   * every claim at start belongs to a process that is gone, and waiting for its lease would only delay.
   */
  async releaseAllClaims(): Promise<number> {
    return this.prisma.$executeRaw`UPDATE outbox SET "claimedUntil" = NULL WHERE "claimedUntil" IS NOT NULL`;
  }

  async backlog(now: Date): Promise<{ pending: number; oldestAgeS: number | null; failing: number }> {
    const [row] = (await this.prisma.$queryRaw`
      SELECT count(*)::int AS pending, count(*) FILTER (WHERE "lastError" IS NOT NULL)::int AS failing,
             EXTRACT(EPOCH FROM (${now}::timestamp(3) - min("createdAt")))::float8 AS "oldestAgeS"
      FROM outbox`) as { pending: number; oldestAgeS: number | null; failing: number }[];
    return row!;
  }
}
