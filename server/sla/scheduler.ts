import type { PrismaClient } from "../platform/db/generated/client.ts";
import type { Logger } from "../platform/logger.ts";
import type { DeadlineKind } from "./deadlines.ts";

export interface DueDeadline {
  id: number;
  incidentId: number;
  kind: DeadlineKind;
  dueAt: Date;
  data: Record<string, unknown> | null;
}

export type DeadlineHandler = (deadline: DueDeadline) => Promise<void>;

/** A handler that crashed or whose process died holds its claim this long before someone retries. */
const LEASE_MS = 30_000;
const MAX_ATTEMPTS = 5;
const BATCH = 100;

/**
 * Fires `sla_deadlines` rows when due. Claiming is a row lease taken with `FOR UPDATE SKIP LOCKED`, so
 * several server processes share the work without firing a row twice, and a row whose handler never
 * finished (crash, restart) is claimed again once the lease runs out. Nothing lives only in memory: at
 * start the first tick fires whatever fell due while the server was down.
 */
export class SlaScheduler {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private stopped = false;
  readonly counters = { fired: 0, failed: 0 };

  constructor(
    private readonly prisma: PrismaClient,
    private readonly handlers: Record<DeadlineKind, DeadlineHandler>,
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
        .catch((error) => this.log.error({ err: error }, "SLA tick failed"))
        .then((more) => this.schedule(more === true ? 0 : this.options.tickMs));
    }, delayMs);
  }

  /** Claims and fires one batch; true when more rows may be due already. */
  async tick(): Promise<boolean> {
    const now = this.options.clock();
    const leaseUntil = new Date(now.getTime() + LEASE_MS);
    const claimed = (await this.prisma.$queryRaw`
      UPDATE sla_deadlines SET "claimedUntil" = ${leaseUntil}, attempts = attempts + 1
      WHERE id IN (
        SELECT id FROM sla_deadlines
        WHERE "firedAt" IS NULL AND "cancelledAt" IS NULL AND "dueAt" <= ${now}
          AND ("claimedUntil" IS NULL OR "claimedUntil" < ${now})
        ORDER BY "dueAt"
        LIMIT ${BATCH}
        FOR UPDATE SKIP LOCKED)
      RETURNING id, "incidentId", kind, "dueAt", data, attempts`) as (DueDeadline & { attempts: number })[];
    claimed.sort((a, b) => a.dueAt.getTime() - b.dueAt.getTime());
    for (const row of claimed) {
      if (this.stopped) break; // the lease runs out and the next start (or another process) fires it
      try {
        await this.handlers[row.kind](row);
        await this.prisma.slaDeadline.update({ where: { id: row.id }, data: { firedAt: this.options.clock() } });
        this.counters.fired++;
      } catch (error) {
        this.counters.failed++;
        const giveUp = row.attempts >= MAX_ATTEMPTS;
        this.log.error({ err: error, deadlineId: row.id, kind: row.kind, attempts: row.attempts, giveUp }, "SLA deadline handler failed");
        // Retry after a short pause instead of the whole lease; give up on a row that keeps failing.
        await this.prisma.slaDeadline.update({
          where: { id: row.id },
          data: giveUp ? { cancelledAt: this.options.clock() } : { claimedUntil: new Date(this.options.clock().getTime() + 2000) },
        });
      }
    }
    return claimed.length === BATCH;
  }
}
