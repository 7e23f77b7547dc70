import { openDB, type IDBPDatabase } from "idb";
import type { QueuedAction, QueueStore } from "./queue.ts";

const DB_NAME = "lift96333-field";
const STORE = "outbox";

/** The queue in IndexedDB: it survives reloads, closed tabs and restarts of the phone. */
export class IdbQueueStore implements QueueStore {
  private readonly db: Promise<IDBPDatabase>;
  constructor() {
    this.db = openDB(DB_NAME, 1, {
      upgrade(db) {
        db.createObjectStore(STORE, { keyPath: "key" });
      },
    });
  }
  async all(): Promise<QueuedAction[]> {
    return (await (await this.db).getAll(STORE)) as QueuedAction[];
  }
  async put(action: QueuedAction): Promise<void> {
    await (await this.db).put(STORE, action);
  }
  async delete(key: string): Promise<void> {
    await (await this.db).delete(STORE, key);
  }
}

/** IndexedDB when the browser has it, else memory. */
export function openQueueStore(fallback: () => QueueStore): QueueStore {
  try {
    if (typeof indexedDB !== "undefined") return new IdbQueueStore();
  } catch {
    // private modes may refuse IndexedDB: keep working without persistence
  }
  return fallback();
}
