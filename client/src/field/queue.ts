/**
 * The field app's outbox: every action is written here first, with the time it was taken and an
 * idempotency key, then sent in the order taken. When the network is gone the actions wait (in IndexedDB,
 * so a reload or a dead battery loses nothing) and are replayed in order once it is back; the server's
 * idempotency keys make a replay of something that did arrive change nothing.
 */
export interface QueuedAction {
  key: string;
  /** Order taken; replay follows it. */
  seq: number;
  /** API path the body goes to (POST). */
  path: string;
  body: Record<string, unknown>;
  /** What the banner calls it, e.g. "accept". */
  kind: string;
  offerId: number;
  /** When the rescuer took the action (ISO). */
  at: string;
  attempts: number;
}

export interface QueueStore {
  all(): Promise<QueuedAction[]>;
  put(action: QueuedAction): Promise<void>;
  delete(key: string): Promise<void>;
}

/** What one delivery attempt came to. */
export type Delivery =
  | { outcome: "sent"; body: unknown }
  /** The server had it already (an earlier delivery whose answer was lost). */
  | { outcome: "duplicate"; body: unknown }
  /** Not delivered (offline, server busy or failing): keep it and try again later. */
  | { outcome: "retry"; message: string }
  /** The server refused it with a reason: it will never be accepted as it is. */
  | { outcome: "refused"; status: number; id: string | null; message: string; details?: unknown };

export interface Refusal {
  action: QueuedAction;
  status: number;
  id: string | null;
  message: string;
  details?: unknown;
}

/** A server answer turned into what the queue does with the action. */
export function classify(status: number, body: unknown): Delivery {
  const error = (body as { error?: { id?: string; message?: string; details?: unknown } } | null)?.error;
  if (status >= 200 && status < 300) return { outcome: "sent", body };
  if (status === 409 && error?.id === "already_recorded") return { outcome: "duplicate", body };
  if (status === 0 || status >= 500 || status === 429 || status === 408 || (status === 409 && error?.id === "in_progress")) {
    return { outcome: "retry", message: error?.message ?? `HTTP ${status}` };
  }
  return { outcome: "refused", status, id: error?.id ?? null, message: error?.message ?? `HTTP ${status}`, details: error?.details };
}

/** 32 hex characters of randomness (a UUID without dashes): what the server accepts as an idempotency key. */
export function newKey(random: () => string = () => crypto.randomUUID()): string {
  return random().replaceAll("-", "").slice(0, 32);
}

export class ActionQueue {
  private flushing: Promise<void> | null = null;
  private again = false;

  constructor(
    private readonly store: QueueStore,
    private readonly deliver: (action: QueuedAction) => Promise<Delivery>,
    private readonly events: {
      onSent?: (action: QueuedAction, body: unknown) => void;
      onRefused?: (refusal: Refusal) => void;
      onChange?: (pending: QueuedAction[]) => void;
    } = {},
    private readonly now: () => Date = () => new Date(),
  ) {}

  async pending(): Promise<QueuedAction[]> {
    return (await this.store.all()).sort((a, b) => a.seq - b.seq);
  }

  /** Records an action as taken now; `flush` sends it. */
  async add(input: { path: string; kind: string; offerId: number; body: Record<string, unknown>; key?: string }): Promise<QueuedAction> {
    const pending = await this.pending();
    const key = input.key ?? newKey();
    const at = this.now().toISOString();
    const action: QueuedAction = {
      key,
      seq: (pending.at(-1)?.seq ?? 0) + 1,
      path: input.path,
      body: { ...input.body, key, at },
      kind: input.kind,
      offerId: input.offerId,
      at,
      attempts: 0,
    };
    await this.store.put(action);
    this.events.onChange?.([...pending, action]);
    return action;
  }

  /**
   * Sends what waits, oldest first, one at a time: an action that cannot be delivered now stops the run
   * (the ones after it keep their place), a refused one is dropped and reported. Concurrent calls share
   * one run, and a call during a run makes it look again at the end.
   */
  flush(): Promise<void> {
    if (this.flushing) {
      this.again = true;
      return this.flushing;
    }
    this.flushing = (async () => {
      try {
        do {
          this.again = false;
          await this.run();
        } while (this.again);
      } finally {
        this.flushing = null;
      }
    })();
    return this.flushing;
  }

  private async run(): Promise<void> {
    for (const action of await this.pending()) {
      let delivery: Delivery;
      try {
        delivery = await this.deliver(action);
      } catch (error) {
        delivery = { outcome: "retry", message: error instanceof Error ? error.message : String(error) };
      }
      if (delivery.outcome === "retry") {
        await this.store.put({ ...action, attempts: action.attempts + 1 });
        this.events.onChange?.(await this.pending());
        return;
      }
      await this.store.delete(action.key);
      if (delivery.outcome === "refused") {
        this.events.onRefused?.({ action, status: delivery.status, id: delivery.id, message: delivery.message, details: delivery.details });
      } else {
        this.events.onSent?.(action, delivery.body);
      }
      this.events.onChange?.(await this.pending());
    }
  }
}

/** An in-memory store (tests, and browsers without IndexedDB: then a reload loses what waits). */
export class MemoryQueueStore implements QueueStore {
  private readonly rows = new Map<string, QueuedAction>();
  async all() {
    return [...this.rows.values()].map((r) => ({ ...r }));
  }
  async put(action: QueuedAction) {
    this.rows.set(action.key, { ...action });
  }
  async delete(key: string) {
    this.rows.delete(key);
  }
}
