/**
 * What the device edge does before any shared queue (docs/protocol.md, "Rates and limits"):
 * a per-device publish limit for status, and a bounded latest-wins lane that holds at most one status per
 * device until the ingest has time for it. Everything not taken is counted by reason.
 */

export const shedReasons = ["rate_limited", "superseded", "queue_full"] as const;
export type ShedReason = (typeof shedReasons)[number];

/**
 * Token buckets, one per device, in one Map of small records. A library bucket (`limiter`,
 * `rate-limiter-flexible`'s memory store) costs an object with timers or a Promise per message; at tens of
 * thousands of status messages a second this is two subtractions and a comparison.
 */
export class DeviceRateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  constructor(
    /** Sustained messages per second per device. */
    readonly ratePerS: number,
    /** Bucket size: how many may come at once after a quiet spell. */
    readonly burst: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Takes one token; false when the device is over its limit (the message is to be dropped). */
  take(deviceId: string): boolean {
    const now = this.now();
    const bucket = this.buckets.get(deviceId);
    if (!bucket) {
      this.buckets.set(deviceId, { tokens: this.burst - 1, at: now });
      return true;
    }
    bucket.tokens = Math.min(this.burst, bucket.tokens + ((now - bucket.at) / 1000) * this.ratePerS);
    bucket.at = now;
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  forget(deviceId: string): void {
    this.buckets.delete(deviceId);
  }
}

/** A status replaced after waiting this long was shed because the ingest is behind. */
const BEHIND_MS = 100;

export interface LaneEntry {
  payload: Buffer;
  receivedAt: number;
}

/** Shed and taken counts over a sliding window of whole seconds, for "shed per second" in health. */
export class RateWindow {
  private readonly slots: number[];
  private slotAt = 0;
  constructor(private readonly seconds = 5) {
    this.slots = new Array(seconds).fill(0);
  }
  private roll(now: number) {
    const second = Math.floor(now / 1000);
    if (second === this.slotAt) return;
    const steps = Math.min(this.seconds, Math.max(0, second - this.slotAt));
    for (let i = 1; i <= steps; i++) this.slots[(this.slotAt + i) % this.seconds] = 0;
    this.slotAt = second;
  }
  add(n = 1, now = Date.now()) {
    this.roll(now);
    this.slots[this.slotAt % this.seconds]! += n;
  }
  /** Per second over the window's complete seconds plus the current one. */
  perSecond(now = Date.now()): number {
    this.roll(now);
    return this.slots.reduce((a, b) => a + b, 0) / this.seconds;
  }
  /** Anything in the last `seconds` seconds. */
  any(now = Date.now()): boolean {
    this.roll(now);
    return this.slots.some((s) => s > 0);
  }
}

/**
 * Status waiting for the ingest: a Map keyed by device, so a newer status replaces the waiting one
 * (latest-wins; the older is counted `superseded`) and the backlog is at most one entry per device and
 * never more than `maxSize`. `offer` tells the reader whether to keep reading: false once the lane is half
 * full, so the broker holds that connection (TCP pushes back to the sender) instead of parsing more than
 * the ingest can use. Holding is the last resort, not the normal brake: a held device's socket fills with
 * status that is stale when it is read (measured: holding on a per-turn read budget cut the ingested
 * rate at 4x capacity to a few per cent, while reading everything and keeping the latest held ~90 %).
 */
export class StatusLane {
  private pending = new Map<string, LaneEntry>();
  readonly shed: Record<ShedReason, number> = { rate_limited: 0, superseded: 0, queue_full: 0 };
  readonly shedWindow = new RateWindow(2);
  /** Shed because the platform was behind (queue full, or a status replaced after waiting too long). */
  readonly behindWindow = new RateWindow(2);
  readonly rateLimitedWindow = new RateWindow(2);
  readonly takenWindow = new RateWindow(5);
  private scheduled = false;
  private stopped = false;
  private readonly roomListeners: (() => void)[] = [];
  /** Times the lane asked a reader to hold a connection. */
  holds = 0;
  private readThisTurn = 0;

  constructor(
    private readonly options: {
      /** Hard bound: a status for a device not already waiting is dropped (`queue_full`) beyond it. */
      maxSize: number;
      /**
       * Status read in one turn of the event loop after which further connections are held: the bound on
       * how long a turn (and so an alarm arriving in it) can take when every socket has data.
       */
      turnBudget: number;
      /** Longest the drain runs before yielding to I/O (alarms, acks, sockets). */
      sliceMs: number;
      handle: (deviceId: string, entry: LaneEntry) => void;
    },
  ) {}

  get size(): number {
    return this.pending.size;
  }
  get maxSize(): number {
    return this.options.maxSize;
  }

  /** Age in ms of the oldest waiting status (0 when empty). */
  oldestAgeMs(now = Date.now()): number {
    const first = this.pending.values().next();
    return first.done ? 0 : now - first.value.receivedAt;
  }

  shedMany(reason: ShedReason, count: number) {
    this.shed[reason] += count;
    this.shedWindow.add(count);
  }

  shedOne(reason: ShedReason, behind = reason === "queue_full") {
    this.shed[reason]++;
    this.shedWindow.add();
    if (behind) this.behindWindow.add();
    if (reason === "rate_limited") this.rateLimitedWindow.add();
  }

  /** Takes a status; returns false when the reader should stop reading for now. */
  offer(deviceId: string, payload: Buffer, receivedAt: number): boolean {
    const waiting = this.pending.get(deviceId);
    if (waiting) {
      // Latest wins: the map keeps the device's place in line, the payload is the newer one. Two status
      // in one read are normal; one that waited longer than a few turns means the ingest is behind.
      this.shedOne("superseded", receivedAt - waiting.receivedAt > BEHIND_MS);
      waiting.payload = payload;
    } else if (this.pending.size >= this.options.maxSize) {
      this.shedOne("queue_full");
    } else {
      this.pending.set(deviceId, { payload, receivedAt });
    }
    this.readThisTurn++;
    this.schedule();
    return this.hasRoom();
  }

  /** Whether a reader may read more now. */
  hasRoom(): boolean {
    return this.readThisTurn < this.options.turnBudget && this.pending.size < this.options.maxSize / 2;
  }

  /** Called at the end of each drain turn: readers that held resume here while there is room. */
  onRoom(listener: () => void) {
    this.roomListeners.push(listener);
  }

  private schedule() {
    if (this.scheduled || this.stopped) return;
    this.scheduled = true;
    setImmediate(() => this.turn());
  }

  /** One turn: ingest waiting status for at most sliceMs, then let held readers go on while there is room. */
  private turn() {
    this.scheduled = false;
    if (this.stopped) return;
    this.drain(this.options.sliceMs);
    this.readThisTurn = 0;
    for (const listener of this.roomListeners) listener();
    if (this.pending.size > 0 || this.readThisTurn > 0) this.schedule();
  }

  /** Ingests waiting status, oldest device first, until empty or `sliceMs` has passed. */
  drain(sliceMs = Infinity): number {
    const deadline = performance.now() + sliceMs;
    let n = 0;
    for (const [deviceId, entry] of this.pending) {
      this.pending.delete(deviceId);
      this.options.handle(deviceId, entry);
      n++;
      if ((n & 31) === 0 && performance.now() >= deadline) break;
    }
    if (n > 0) this.takenWindow.add(n);
    return n;
  }

  stop() {
    this.stopped = true;
  }
}
