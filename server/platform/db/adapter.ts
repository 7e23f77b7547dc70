import fs from "node:fs";
import { PGlite } from "@electric-sql/pglite";
import { pg_trgm } from "@electric-sql/pglite/contrib/pg_trgm";
import { PrismaPGlite } from "pglite-prisma-adapter";
import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import type { DatabaseTarget } from "./target.ts";

/** A raw SQL channel beside Prisma: migrations, template cloning and health checks use it. */
export interface RawSql {
  /** Runs a script of several statements (simple query protocol). */
  exec(sql: string): Promise<void>;
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  /** Runs fn with every statement on one connection (PGlite has only one anyway). */
  withConnection<R>(fn: (raw: Omit<RawSql, "withConnection" | "close">) => Promise<R>): Promise<R>;
  close(): Promise<void>;
}

export interface OpenedDatabase {
  /** Typed as PrismaPg's factory: pglite-prisma-adapter declares the same interface from an older copy of the types. */
  factory: PrismaPg;
  raw: RawSql;
}

/** Extensions must be handed to PGlite's constructor, in the server and the Prisma CLI alike. */
export function openPGlite(dataDir: string | null): PGlite {
  if (dataDir) fs.mkdirSync(dataDir, { recursive: true });
  return new PGlite(dataDir ?? "memory://", { extensions: { pg_trgm } });
}

function pgliteRaw(db: PGlite): RawSql {
  const ops = {
    exec: async (sql: string) => void (await db.exec(sql)),
    query: async <T,>(sql: string, params: unknown[] = []) => (await db.query<T>(sql, params)).rows,
  };
  return { ...ops, withConnection: (fn) => fn(ops), close: () => db.close() };
}

function postgresRaw(pool: pg.Pool): RawSql {
  return {
    exec: async (sql) => void (await pool.query(sql)),
    query: async <T,>(sql: string, params: unknown[] = []) =>
      (await pool.query(sql, params)).rows as T[],
    async withConnection(fn) {
      const client = await pool.connect();
      try {
        return await fn({
          exec: async (sql) => void (await client.query(sql)),
          query: async <T,>(sql: string, params: unknown[] = []) =>
            (await client.query(sql, params)).rows as T[],
        });
      } finally {
        client.release();
      }
    },
    close: () => pool.end(),
  };
}

export function openDatabase(target: DatabaseTarget, options: { poolSize?: number } = {}): OpenedDatabase {
  if (target.kind === "pglite") {
    const db = openPGlite(target.dataDir);
    return { factory: new PrismaPGlite(db) as unknown as PrismaPg, raw: pgliteRaw(db) };
  }
  // A database host that does not answer fails a query in seconds (then retried by its caller) instead of
  // holding alarms, follow-ups and health checks for the operating system's TCP timeout.
  const pool = new pg.Pool({ connectionString: target.url, max: options.poolSize ?? 10, connectionTimeoutMillis: 5_000 });
  // An idle client that loses its server must not crash the process; the next query reports it.
  pool.on("error", () => {});
  return { factory: new PrismaPg(pool), raw: postgresRaw(pool) };
}
