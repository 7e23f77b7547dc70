import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pino } from "pino";
import { Writable } from "node:stream";
import { connectDatabase, type Database } from "../../server/platform/db/index.ts";
import { parseDatabaseUrl } from "../../server/platform/db/target.ts";
import { OutboxRepository } from "../../server/platform/outbox/repository.ts";
import { CommittedQueue, OutboxRelay } from "../../server/platform/outbox/relay.ts";
import { UnitOfWork } from "../../server/platform/outbox/unit-of-work.ts";
import type { OutboxHandlers } from "../../server/platform/outbox/topics.ts";
import { createTestDatabase, type TestDatabase } from "../support/database.ts";

/**
 * The relay on the real database: a handler that throws is retried with backoff and reported (log and
 * counter), never dropped; rows a dead process had claimed are delivered by another once its lease ran
 * out; a change that rolls back leaves no follow-up.
 */
const noHandlers = (): OutboxHandlers => ({
  "incident.opened": [],
  "incident.changed": [],
  "team.changed": [],
  "call.changed": [],
  "mass_event.changed": [],
  "dispatch.next": [],
  "deadline.due": [],
  "sla.alert": [],
});

function capturingLogger() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(JSON.parse(String(chunk)));
      done();
    },
  });
  return { log: pino({ level: "warn" }, stream), lines };
}

describe("outbox relay", () => {
  let database: TestDatabase;
  let db: Database;
  const clock = () => new Date();

  beforeAll(async () => {
    database = await createTestDatabase();
    db = await connectDatabase(parseDatabaseUrl(database.url));
  });
  afterAll(async () => {
    await db?.close();
    await database?.drop();
  });

  const pending = async () => (await db.raw.query<{ id: number; attempts: number; lastError: string | null }>(`SELECT id, attempts, "lastError" FROM outbox ORDER BY id`));

  it("retries a failing handler with backoff, reports each failure, and delivers once it succeeds", async () => {
    const repository = new OutboxRepository(db.prisma);
    const queue = new CommittedQueue();
    const uow = new UnitOfWork(db.prisma, repository, queue, { leaseMs: 3000, clock });
    const calls: number[] = [];
    const handlers = noHandlers();
    handlers["call.changed"] = [
      {
        name: "flaky push",
        handle: () => {
          calls.push(Date.now());
          if (calls.length <= 2) throw new Error(`socket server unavailable (${calls.length})`);
        },
      },
    ];
    const { log, lines } = capturingLogger();
    const relay = new OutboxRelay(repository, queue, handlers, log, { pollMs: 50, leaseMs: 3000, exclusive: false, clock });
    await relay.start();
    try {
      await uow.run(async (work) => work.emit("call.changed", { callId: 42, event: "updated" }));
      // After the first failure the row stays, with the error kept for whoever looks.
      await expect.poll(pending, { timeout: 5000, interval: 20 }).toEqual([expect.objectContaining({ lastError: expect.stringContaining("socket server unavailable") })]);
      await expect.poll(() => calls.length, { timeout: 10_000, interval: 20 }).toBe(3);
      await expect.poll(pending, { timeout: 5000, interval: 20 }).toEqual([]);
      expect(relay.counters).toMatchObject({ failed: 2, delivered: 1 });
      // Backoff: 0.5 s before the second attempt, 1 s before the third.
      expect(calls[1]! - calls[0]!).toBeGreaterThanOrEqual(450);
      expect(calls[2]! - calls[1]!).toBeGreaterThanOrEqual(950);
      const reported = lines.filter((l) => l.msg === "outbox handler failed; retrying");
      expect(reported.map((l) => [l.topic, l.handler, l.attempts])).toEqual([
        ["call.changed", "flaky push", 1],
        ["call.changed", "flaky push", 2],
      ]);
    } finally {
      await relay.stop();
    }
  });

  it("delivers what a dead process committed once its lease ran out, and nothing of a rolled-back change", async () => {
    const repository = new OutboxRepository(db.prisma);
    // The "dead" process: it commits, but its relay never runs.
    const deadQueue = new CommittedQueue();
    const dead = new UnitOfWork(db.prisma, repository, deadQueue, { leaseMs: 400, clock });
    await dead.run(async (work) => work.emit("team.changed", { teamId: 7 }));
    await expect(
      dead.run(async (work) => {
        work.emit("team.changed", { teamId: 8 });
        throw new Error("refused");
      }),
    ).rejects.toThrow("refused");
    const committedAt = Date.now();

    const delivered: { teamId: number; at: number }[] = [];
    const handlers = noHandlers();
    handlers["team.changed"] = [{ name: "record", handle: ({ teamId }) => void delivered.push({ teamId, at: Date.now() }) }];
    const relay = new OutboxRelay(repository, new CommittedQueue(), handlers, capturingLogger().log, { pollMs: 50, leaseMs: 400, exclusive: false, clock });
    await relay.start();
    try {
      await expect.poll(() => delivered.length, { timeout: 5000, interval: 20 }).toBe(1);
      expect(delivered[0]!.teamId).toBe(7);
      // Not before the dead process's claim ran out.
      expect(delivered[0]!.at - committedAt).toBeGreaterThanOrEqual(300);
      await expect.poll(pending, { timeout: 5000, interval: 20 }).toEqual([]);
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(delivered.map((d) => d.teamId)).toEqual([7]);
      expect(relay.counters.claimedByPoll).toBe(1);
    } finally {
      await relay.stop();
    }
  });
});
