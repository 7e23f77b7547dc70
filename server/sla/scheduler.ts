import type { Logger } from "../platform/logger.ts";
import type { UnitOfWork } from "../platform/outbox/unit-of-work.ts";
import { fireDue } from "./repository.ts";

const BATCH = 100;

/**
 * Fires `sla_deadlines` rows when due. Firing is one transaction: the due rows are marked fired (taken
 * with `FOR UPDATE SKIP LOCKED`, so several processes share them and none fires a row twice) and a
 * `deadline.due` outbox row is written for each; the outbox relay then runs the check (offer timeout,
 * arrival warning, arrival deadline), retrying with backoff until it succeeds. Nothing lives only in
 * memory: at start the first tick fires whatever fell due while the server was down.
 */
export class SlaScheduler {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private stopped = true;
  readonly counters = { fired: 0, failedTicks: 0 };

  constructor(
    private readonly uow: UnitOfWork,
    private readonly log: Logger,
    private readonly options: { tickMs: number; clock: () => Date },
  ) {}

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running;
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.tick()
        .catch((error) => {
          this.counters.failedTicks++;
          this.log.error({ err: error }, "SLA tick failed");
          return false;
        })
        .then((more) => this.schedule(more ? 0 : this.options.tickMs));
    }, delayMs);
  }

  /** Fires one batch; true when more rows may be due already. */
  async tick(): Promise<boolean> {
    const fired = await this.uow.run(async (work) => {
      const due = await fireDue(work.db, this.options.clock(), BATCH);
      for (const row of due) {
        work.emit("deadline.due", { deadlineId: row.id, incidentId: row.incidentId, kind: row.kind, data: row.data });
      }
      return due.length;
    });
    this.counters.fired += fired;
    return fired === BATCH;
  }
}
