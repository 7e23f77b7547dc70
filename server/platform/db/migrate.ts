import { LOCKS } from "./locks.ts";
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { RawSql } from "./adapter.ts";

export const MIGRATIONS_DIR = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  "../../../prisma/migrations",
);

// Same key and table as Prisma's migrate engine, so `prisma migrate status` reads what we applied.
const MIGRATIONS_TABLE = `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
  "id" VARCHAR(36) PRIMARY KEY NOT NULL,
  "checksum" VARCHAR(64) NOT NULL,
  "finished_at" TIMESTAMPTZ,
  "migration_name" VARCHAR(255) NOT NULL,
  "logs" TEXT,
  "rolled_back_at" TIMESTAMPTZ,
  "started_at" TIMESTAMPTZ NOT NULL DEFAULT now(),
  "applied_steps_count" INTEGER NOT NULL DEFAULT 0
)`;

export interface MigrationFile {
  name: string;
  sql: string;
  checksum: string;
}

export function readMigrations(dir = MIGRATIONS_DIR): MigrationFile[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort()
    .map((name) => {
      const sql = fs.readFileSync(path.join(dir, name, "migration.sql"), "utf8");
      return { name, sql, checksum: crypto.createHash("sha256").update(sql).digest("hex") };
    });
}

/**
 * Applies the committed Prisma migrations in process (the Prisma CLI's JS engine does not exit while
 * PGlite is open, and a second process may not open the same PGlite folder). Each migration runs in its
 * own transaction under Prisma's advisory lock, so several servers starting together apply it once.
 * Returns the names applied now.
 */
export async function applyMigrations(raw: RawSql, migrations = readMigrations()): Promise<string[]> {
  return raw.withConnection(async (conn) => {
    await conn.query("SELECT pg_advisory_lock($1)", [LOCKS.prismaMigrate]);
    try {
      await conn.exec(MIGRATIONS_TABLE);
      const rows = await conn.query<{ migration_name: string; checksum: string }>(
        `SELECT migration_name, checksum FROM "_prisma_migrations"
         WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL`,
      );
      const done = new Map(rows.map((row) => [row.migration_name, row.checksum]));
      const applied: string[] = [];
      for (const migration of migrations) {
        const checksum = done.get(migration.name);
        if (checksum !== undefined) {
          if (checksum !== migration.checksum) {
            throw new Error(`migration ${migration.name} was changed after it was applied to this database`);
          }
          continue;
        }
        await conn.exec("BEGIN");
        try {
          await conn.exec(migration.sql);
          await conn.query(
            `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at, finished_at, applied_steps_count)
             VALUES ($1, $2, $3, now(), now(), 1)`,
            [crypto.randomUUID(), migration.checksum, migration.name],
          );
          await conn.exec("COMMIT");
        } catch (error) {
          await conn.exec("ROLLBACK");
          throw new Error(`migration ${migration.name} failed: ${(error as Error).message}`);
        }
        applied.push(migration.name);
      }
      return applied;
    } finally {
      await conn.query("SELECT pg_advisory_unlock($1)", [LOCKS.prismaMigrate]);
    }
  });
}
