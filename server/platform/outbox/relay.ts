import type { Logger } from "../logger.ts";
import type { OutboxRepository } from "./repository.ts";
import type { OutboxHandlers, OutboxMessage, Topic } from "./topics.ts";

export interface RelayOptions {
  /** How often due rows are claimed from the database (undelivered, retried, or left by a dead process). */
  pollMs: number;
  /** How long a claim holds; renewed every third of it while this process still has the row. */
  leaseMs: number;
  /** Only this process can reach the database (embedded PGlite): claims left at start are a dead process's. */
  exclusive: boolean;
  clock: () => Date;
  /**
   * A row whose handlers failed this many times in a row is handed to `onStuck` (and again after each
   * further as many failures): a person takes over what the machine keeps failing at, while the row is
   * still retried.
   */
  escalateAfterAttempts?: number;
  onStuck?: (message: OutboxMessage, reason: string) => void | Promise<void>;
}

export const DEFAULT_ESCALATE_AFTER_ATTEMPTS = 5;

/** Backoff after the n-th failed attempt: 0.5 s doubling, at most a minute. A row is never given up. */
export function retryDelayMs(attempts: number): number {
  return Math.min(60_000, 500 * 2 ** Math.max(0, attempts - 1));
}

/** A failure that keeps coming back is logged at error level from this attempt on (warn before). */
const LOUD_AFTER_ATTEMPTS = 3;
const POLL_BATCH = 200;

/**
 * Rows committed by this process, handed from the unit of work to the relay: the fast path that delivers
 * a follow-up a few milliseconds after its commit, without waiting for a poll.
 */
export class CommittedQueue {
  private items: OutboxMessage[] = [];
  private waiting: (() => void) | null = null;
  private interrupted = false;

  /**
   * The relay wakes on the next turn of the event loop, not in the committing code's microtasks: whatever
   * the committer does right after its commit (the team board's update) is done before a handler reads it.
   */
  push(messages: readonly OutboxMessage[]): void {
    this.items.push(...messages);
    const wake = this.waiting;
    this.waiting = null;
    if (wake) setImmediate(wake);
  }

  /** Waits for messages and takes all there are (none once interrupted). */
  async take(): Promise<OutboxMessage[]> {
    while (this.items.length === 0 && !this.interrupted) await new Promise<void>((resolve) => (this.waiting = resolve));
    this.interrupted = false;
    const taken = this.items;
    this.items = [];
    return taken;
  }

  /** Wakes a waiting take() with nothing (stopping). */
  interrupt(): void {
    this.interrupted = true;
    this.waiting?.();
    this.waiting = null;
  }
}

/**
 * Delivers outbox rows to their topic's handlers: at once for rows this process just committed, by
 * polling for everything else (at start, after a crash, a failed attempt's retry, another process's
 * leftovers). Claims are leases taken with `FOR UPDATE SKIP LOCKED`, so several processes share the work
 * and a dead one's rows are taken over when its lease runs out. A handler that throws is logged, counted
 * and retried with backoff; the row stays until every handler of its topic has succeeded in one attempt.
 * Handlers are idempotent (they read current state), so a repeated delivery changes nothing.
 */
export class OutboxRelay {
  readonly counters = { delivered: 0, failed: 0, claimedByPoll: 0, escalated: 0 };
  /** Rows this process holds: renewed until delivered or released. */
  private readonly held = new Set<number>();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly done: number[] = [];
  private flushing: Promise<void> = Promise.resolve();
  private timers: NodeJS.Timeout[] = [];
  private pollTimer: NodeJS.Timeout | null = null;
  private polling: Promise<void> | null = null;
  private consuming: Promise<void> | null = null;
  private stopped = true;

  constructor(
    private readonly repository: OutboxRepository,
    private readonly queue: CommittedQueue,
    private readonly handlers: OutboxHandlers,
    private readonly log: Logger,
    private readonly options: RelayOptions,
  ) {}

  async start(): Promise<void> {
    this.stopped = false;
    if (this.options.exclusive) {
      const released = await this.repository.releaseAllClaims();
      if (released) this.log.info({ released }, "outbox: took over the claims of the previous run");
    }
    this.consuming = this.consume();
    this.timers.push(setInterval(() => void this.renewClaims(), Math.max(50, Math.floor(this.options.leaseMs / 3))));
    this.schedulePoll(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers) clearInterval(timer);
    this.timers = [];
    if (this.pollTimer) clearTimeout(this.pollTimer);
    this.queue.interrupt();
    await this.polling;
    await this.consuming;
    await Promise.allSettled([...this.inFlight]);
    await this.flushDone();
  }

  private async consume(): Promise<void> {
    while (!this.stopped) {
      const messages = await this.queue.take();
      for (const message of messages) this.dispatch(message);
    }
  }

  private schedulePoll(delayMs: number): void {
    if (this.stopped) return;
    this.pollTimer = setTimeout(() => {
      this.polling = this.poll()
        .catch((error) => {
          this.log.error({ err: error }, "outbox poll failed");
          return false;
        })
        .then((more) => this.schedulePoll(more ? 0 : this.options.pollMs));
    }, delayMs);
  }

  /** Claims one batch of due rows; true when more may be due already. */
  async poll(): Promise<boolean> {
    const now = this.options.clock();
    const claimed = await this.repository.claimDue(now, new Date(now.getTime() + this.options.leaseMs), POLL_BATCH);
    this.counters.claimedByPoll += claimed.length;
    for (const message of claimed) this.dispatch(message);
    return claimed.length === POLL_BATCH;
  }

  private dispatch(message: OutboxMessage): void {
    if (this.held.has(message.id)) return;
    this.held.add(message.id);
    const delivery = this.deliver(message).finally(() => this.inFlight.delete(delivery));
    this.inFlight.add(delivery);
  }

  private async deliver(message: OutboxMessage): Promise<void> {
    const handlers = this.handlers[message.topic as Topic] as { name: string; handle: (payload: unknown, message: OutboxMessage) => unknown }[] | undefined;
    const failures: { handler: string; error: unknown }[] = [];
    for (const handler of handlers ?? []) {
      try {
        await handler.handle(message.payload, message);
      } catch (error) {
        failures.push({ handler: handler.name, error });
      }
    }
    if (failures.length === 0) {
      this.counters.delivered++;
      this.done.push(message.id);
      this.flushDoneSoon();
      return;
    }
    this.counters.failed++;
    const delayMs = retryDelayMs(message.attempts);
    const level = message.attempts >= LOUD_AFTER_ATTEMPTS ? "error" : "warn";
    for (const failure of failures) {
      this.log[level](
        { err: failure.error, outboxId: message.id, topic: message.topic, handler: failure.handler, attempts: message.attempts, retryInMs: delayMs },
        "outbox handler failed; retrying",
      );
    }
    const reason = failures.map((f) => `${f.handler}: ${(f.error as Error)?.message ?? String(f.error)}`).join("; ");
    const every = this.options.escalateAfterAttempts ?? DEFAULT_ESCALATE_AFTER_ATTEMPTS;
    if (this.options.onStuck && message.attempts >= every && message.attempts % every === 0) {
      this.counters.escalated++;
      try {
        await this.options.onStuck(message, reason);
      } catch (error) {
        this.log.error({ err: error, outboxId: message.id }, "outbox: escalating a stuck follow-up failed");
      }
    }
    try {
      await this.repository.retryLater(message.id, new Date(this.options.clock().getTime() + delayMs), reason);
    } catch (error) {
      // The lease runs out and a poll takes the row again: it is late, not lost.
      this.log.error({ err: error, outboxId: message.id }, "outbox: could not schedule the retry");
    }
    this.held.delete(message.id);
  }

  /** Deleting delivered rows in batches keeps that write off the path of the next follow-up. */
  private flushDoneSoon(): void {
    if (this.done.length === 1) setImmediate(() => void this.flushDone());
  }

  private flushDone(): Promise<void> {
    this.flushing = this.flushing.then(async () => {
      const ids = this.done.splice(0);
      if (!ids.length) return;
      try {
        await this.repository.delete(ids);
      } catch (error) {
        // Still held by us until the lease runs out; then redelivered, which handlers tolerate.
        this.log.error({ err: error, rows: ids.length }, "outbox: delivered rows not deleted");
      }
      for (const id of ids) this.held.delete(id);
    });
    return this.flushing;
  }

  private async renewClaims(): Promise<void> {
    if (this.held.size === 0) return;
    try {
      await this.repository.renew([...this.held], new Date(this.options.clock().getTime() + this.options.leaseMs));
    } catch (error) {
      this.log.warn({ err: error, rows: this.held.size }, "outbox: claims not renewed");
    }
  }
}
