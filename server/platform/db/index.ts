import { PrismaClient } from "./generated/client.ts";
import { openDatabase, type RawSql } from "./adapter.ts";
import { applyMigrations } from "./migrate.ts";
import { describeTarget, type DatabaseTarget } from "./target.ts";

export type { PrismaClient };
export type Db = PrismaClient;

export interface Database {
  prisma: PrismaClient;
  raw: RawSql;
  target: DatabaseTarget;
  /** Round trip in ms, or throws. */
  ping(): Promise<number>;
  close(): Promise<void>;
}

export class DatabaseUnavailableError extends Error {}

const PING_TIMEOUT_MS = 2_000;

/** Opens the database, proves it answers, and brings its schema up to date. */
export async function connectDatabase(target: DatabaseTarget): Promise<Database & { migrationsApplied: string[] }> {
  const opened = openDatabase(target);
  try {
    await opened.raw.query("SELECT 1");
  } catch (error) {
    await opened.raw.close().catch(() => {});
    throw new DatabaseUnavailableError(
      `cannot reach the database at ${describeTarget(target)}: ${(error as Error).message}`,
    );
  }
  const migrationsApplied = await applyMigrations(opened.raw);
  const prisma = new PrismaClient({ adapter: opened.factory });
  return {
    prisma,
    raw: opened.raw,
    target,
    migrationsApplied,
    async ping() {
      const started = performance.now();
      let timer: NodeJS.Timeout | undefined;
      // Health must answer while the database hangs: a ping slower than this counts as unreachable.
      await Promise.race([
        opened.raw.query("SELECT 1"),
        new Promise((_, reject) => (timer = setTimeout(() => reject(new DatabaseUnavailableError("database ping timed out")), PING_TIMEOUT_MS))),
      ]).finally(() => clearTimeout(timer));
      return performance.now() - started;
    },
    async close() {
      await prisma.$disconnect();
      await opened.raw.close();
    },
  };
}
