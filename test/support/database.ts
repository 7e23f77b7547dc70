import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import crypto from "node:crypto";
import pg from "pg";
import { inject } from "vitest";
import { openDatabase } from "../../server/platform/db/adapter.ts";
import { applyMigrations, readMigrations } from "../../server/platform/db/migrate.ts";
import { PrismaClient } from "../../server/platform/db/generated/client.ts";
import { loadDemoData } from "../../server/seed/load.ts";
import { SEED_VERSION, generateTianjinDemo } from "../../server/seed/tianjin.ts";

/** The small Tianjin dataset every integration test starts from. */
export const TEST_DATASET = { seed: 96333, elevators: 400 } as const;

function templateKey(): string {
  const hash = crypto.createHash("sha256");
  for (const migration of readMigrations()) hash.update(migration.checksum);
  // What the seed writes changes with its version too, not only with the dataset options.
  hash.update(JSON.stringify({ ...TEST_DATASET, seedVersion: SEED_VERSION }));
  return hash.digest("hex").slice(0, 12);
}

/** Migrates a database and loads the test dataset into it (a template, or a test's own cluster). */
export async function seedTestDatabase(url: string) {
  const db = openDatabase(url.startsWith("pglite:") ? { kind: "pglite", dataDir: url.slice(7) } : { kind: "postgres", url }, {
    poolSize: 2,
  });
  await applyMigrations(db.raw);
  const prisma = new PrismaClient({ adapter: db.factory });
  await loadDemoData(prisma, generateTianjinDemo(TEST_DATASET));
  await prisma.$disconnect();
  await db.raw.close().catch(() => {});
}

function adminUrl(url: string, database = "postgres"): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

export async function prepareTemplates(): Promise<{
  pgliteTemplateDir: string;
  postgresTemplate: string | null;
  cleanup: () => Promise<void>;
}> {
  const key = templateKey();
  const pgliteTemplateDir = path.join(os.tmpdir(), `lift96333-template-${key}`);
  if (!fs.existsSync(path.join(pgliteTemplateDir, "READY"))) {
    fs.rmSync(pgliteTemplateDir, { recursive: true, force: true });
    const building = `${pgliteTemplateDir}.building-${process.pid}`;
    fs.rmSync(building, { recursive: true, force: true });
    await seedTestDatabase(`pglite:${building}`);
    fs.writeFileSync(path.join(building, "READY"), key);
    try {
      fs.renameSync(building, pgliteTemplateDir);
    } catch (error) {
      // Another run built the same template meanwhile: keep theirs.
      fs.rmSync(building, { recursive: true, force: true });
      if (!fs.existsSync(path.join(pgliteTemplateDir, "READY"))) throw error;
    }
  }

  let postgresTemplate: string | null = null;
  const serverUrl = process.env.TEST_DATABASE_URL;
  if (serverUrl) {
    postgresTemplate = `lift96333_tpl_${key}`;
    const admin = new pg.Client({ connectionString: adminUrl(serverUrl) });
    await admin.connect();
    try {
      const exists = await admin.query("SELECT 1 FROM pg_database WHERE datname = $1", [postgresTemplate]);
      if (exists.rowCount === 0) {
        const building = `${postgresTemplate}_b${process.pid}`;
        await admin.query(`DROP DATABASE IF EXISTS "${building}"`);
        await admin.query(`CREATE DATABASE "${building}"`);
        await seedTestDatabase(adminUrl(serverUrl, building));
        try {
          await admin.query(`ALTER DATABASE "${building}" RENAME TO "${postgresTemplate}"`);
        } catch (error) {
          await admin.query(`DROP DATABASE IF EXISTS "${building}" WITH (FORCE)`);
          if ((error as { code?: string }).code !== "42P04") throw error; // duplicate_database: another run won
        }
      }
    } finally {
      await admin.end();
    }
  }
  return { pgliteTemplateDir, postgresTemplate, cleanup: async () => {} };
}

export interface TestDatabase {
  /** A DATABASE_URL for the server config. */
  url: string;
  kind: "pglite" | "postgres";
  drop(): Promise<void>;
}

/** A fresh database cloned from the migrated, seeded template: PostgreSQL with TEST_DATABASE_URL, else PGlite. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const serverUrl = process.env.TEST_DATABASE_URL;
  const name = `lift96333_t_${Date.now().toString(36)}_${crypto.randomBytes(3).toString("hex")}`;
  if (serverUrl) {
    const template = inject("postgresTemplate");
    if (!template) throw new Error("global setup prepared no PostgreSQL template");
    const admin = new pg.Client({ connectionString: adminUrl(serverUrl) });
    await admin.connect();
    await admin.query(`CREATE DATABASE "${name}" TEMPLATE "${template}"`);
    await admin.end();
    return {
      url: adminUrl(serverUrl, name),
      kind: "postgres",
      async drop() {
        const client = new pg.Client({ connectionString: adminUrl(serverUrl) });
        await client.connect();
        await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
        await client.end();
      },
    };
  }
  const dir = path.join(os.tmpdir(), name);
  fs.cpSync(inject("pgliteTemplateDir"), dir, { recursive: true });
  return {
    url: `pglite:${dir}`,
    kind: "pglite",
    async drop() {
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
