import type { Prisma, PrismaClient } from "../db/generated/client.ts";
import type { OutboxRepository } from "./repository.ts";
import type { CommittedQueue } from "./relay.ts";
import type { OutboxTopics, PendingEvent, Topic } from "./topics.ts";

/** What a change runs with: its transaction, and the follow-ups it causes. */
export interface Work {
  db: Prisma.TransactionClient;
  /** Records a follow-up; it is written with the transaction and delivered only if it commits. */
  emit<K extends Topic>(topic: K, payload: OutboxTopics[K]): void;
}

/** What services need of the unit of work: a fake in their unit tests runs `fn` and records the emits. */
export interface Transactional {
  run<T>(fn: (work: Work) => Promise<T>, transaction?: { maxWait?: number; timeout?: number }): Promise<T>;
}

/**
 * The one transaction boundary for state changes: `run(fn)` opens a transaction, lets `fn` change state
 * and emit follow-ups, writes those as outbox rows in the same transaction (one statement), and after the
 * commit hands them to this process's relay. A crash at any point after the commit leaves the rows
 * behind, and the relay of the next start (or of another process) delivers them.
 */
export class UnitOfWork implements Transactional {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly outbox: OutboxRepository,
    private readonly committed: CommittedQueue,
    private readonly options: { leaseMs: number; clock: () => Date },
  ) {}

  /** `transaction`: Prisma's waiting and running limits, for paths that must ride out a storm. */
  async run<T>(fn: (work: Work) => Promise<T>, transaction?: { maxWait?: number; timeout?: number }): Promise<T> {
    let written: Awaited<ReturnType<OutboxRepository["insertClaimed"]>> = [];
    const result = await this.prisma.$transaction(async (db) => {
      const pending: PendingEvent[] = [];
      const value = await fn({ db, emit: (topic, payload) => void pending.push({ topic, payload } as PendingEvent) });
      if (pending.length) {
        const now = this.options.clock();
        written = await this.outbox.insertClaimed(db, dedupe(pending), now, new Date(now.getTime() + this.options.leaseMs));
      }
      return value;
    }, transaction);
    if (written.length) this.committed.push(written);
    return result;
  }
}

/** The same follow-up twice in one change (an incident changed by two statements) is delivered once. */
function dedupe(events: PendingEvent[]): PendingEvent[] {
  const seen = new Set<string>();
  return events.filter((event) => {
    const key = `${event.topic} ${JSON.stringify(event.payload)}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
