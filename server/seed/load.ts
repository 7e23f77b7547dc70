import { LOCKS } from "../platform/db/locks.ts";
import type { PrismaClient } from "../platform/db/generated/client.ts";
import type { RawSql } from "../platform/db/adapter.ts";
import { hashPassword } from "../auth/password.ts";
import { demoDeviceSecret, mosquittoPasswordHash } from "../devices/secrets.ts";
import { generateTianjinDemo, type DemoData, type GenerateOptions } from "./tianjin.ts";

export interface SeedSummary {
  /** True when this call wrote the demo data, false when the database already held data. */
  loaded: boolean;
  districts: number;
  companies: number;
  sites: number;
  elevators: number;
  devices: number;
  rescueStations: number;
  fireStations: number;
  teams: number;
  users: number;
}

export interface LoadOptions {
  /**
   * The raw channel of the same database. When given, rows are written through it: Prisma's raw-query
   * parameter handling costs 4-9x the database time for 20,000-row array parameters.
   */
  raw?: RawSql;
}

/** One connection inside one transaction, whichever client provides it. */
export interface Sql {
  exec(sql: string, params?: unknown[]): Promise<void>;
  rows<T>(sql: string, params?: unknown[]): Promise<T[]>;
}

// Serialises concurrent seeders (several servers starting together) on one database.
// Rows go in as one array per column through unnest(): a handful of bind parameters per statement
// instead of createMany's one per value, which took minutes for 200,000 lifts.
const CHUNK_ROWS = 20_000;

/** Tables that get explicit ids from the generator; their sequences are moved past max(id) afterwards. */
const SERIAL_TABLES = [
  "districts",
  "maintenance_companies",
  "sites",
  "elevators",
  "rescue_stations",
  "fire_stations",
  "teams",
  "users",
] as const;

export type ColumnTypes = Record<string, string>;

const COLUMNS = {
  districts: {
    id: "int", code: "text", name: "text", nameEn: "text", central: "boolean", arrivalLimitMinutes: "int",
    detourFactor: "float8", centerLat: "float8", centerLng: "float8", outline: "jsonb",
  },
  maintenance_companies: {
    id: "int", name: "text", licenseNo: "text", contactName: "text", contactPhone: "text", address: "text",
  },
  sites: {
    id: "int", name: "text", address: "text", placeType: "text", districtId: "int", lat: "float8", lng: "float8",
    propertyCompany: "text", propertyContact: "text", propertyPhone: "text",
  },
  elevators: {
    id: "int", registrationCode: "text", rescueCode: "text", type: "text", brand: "text", model: "text", floors: "int",
    unitNo: "text", installDate: "date", nextInspectionDue: "date", lastMaintenanceAt: "timestamp(3)",
    usageUnit: "text", siteId: "int", maintenanceCompanyId: "int",
  },
  rescue_stations: { id: "int", name: "text", districtId: "int", address: "text", lat: "float8", lng: "float8", phone: "text" },
  fire_stations: { id: "int", name: "text", districtId: "int", address: "text", lat: "float8", lng: "float8", phone: "text" },
  teams: {
    id: "int", name: "text", kind: '"TeamKind"', phone: "text", baseLat: "float8", baseLng: "float8",
    maintenanceCompanyId: "int", rescueStationId: "int", fireStationId: "int",
  },
  users: {
    id: "int", username: "text", displayName: "text", passwordHash: "text", role: '"Role"', phone: "text",
    maintenanceCompanyId: "int", teamId: "int",
  },
  devices: { id: "text", secretHash: "text", mosquittoHash: "text", elevatorId: "int", firmware: "text" },
} satisfies Record<string, ColumnTypes>;

function toParam(value: unknown, type: string): unknown {
  if (value === null || value === undefined) return null;
  // timestamp(3) columns hold UTC wall time, as Prisma writes them.
  if (value instanceof Date) return type === "date" ? value.toISOString().slice(0, 10) : value.toISOString();
  if (type === "jsonb") return JSON.stringify(value);
  return value;
}

// PGlite serialises a parameter by its declared type and has no serialiser for enum, date or jsonb arrays,
// so those travel as text[] and are cast on the server.
const NATIVE_ARRAY_TYPES = new Set(["int", "float8", "boolean", "text"]);
const paramType = (type: string) => (NATIVE_ARRAY_TYPES.has(type) ? `${type}[]` : `text[]::${type}[]`);

async function insertRows(sql: Sql, table: keyof typeof COLUMNS, rows: readonly object[]): Promise<void> {
  await insertColumns(sql, table, COLUMNS[table], rows);
}

/** Bulk insert through unnest(): one array parameter per column, in chunks. */
export async function insertColumns(sql: Sql, table: string, types: ColumnTypes, rows: readonly object[]): Promise<void> {
  const names = Object.keys(types);
  const statement =
    `INSERT INTO "${table}" (${names.map((n) => `"${n}"`).join(", ")}) ` +
    `SELECT * FROM unnest(${names.map((n, i) => `$${i + 1}::${paramType(types[n]!)}`).join(", ")})`;
  for (let start = 0; start < rows.length; start += CHUNK_ROWS) {
    const chunk = rows.slice(start, start + CHUNK_ROWS) as Record<string, unknown>[];
    await sql.exec(statement, names.map((name) => chunk.map((row) => toParam(row[name], types[name]!))));
  }
}

/**
 * Building an index once over loaded rows is cheaper than maintaining it row by row (the trigram GIN
 * indexes on sites above all), so the big tables' secondary indexes are dropped and recreated from their
 * own definitions inside the loading transaction; a failed load rolls the drop back too.
 */
async function withoutSecondaryIndexes(sql: Sql, tables: string[], load: () => Promise<void>): Promise<void> {
  const indexes = await sql.rows<{ indexname: string; indexdef: string }>(
    `SELECT i.indexname, i.indexdef FROM pg_indexes i
     WHERE i.schemaname = current_schema() AND i.tablename = ANY($1::text[])
       AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)`,
    [tables],
  );
  for (const index of indexes) await sql.exec(`DROP INDEX "${index.indexname}"`);
  await load();
  for (const index of indexes) await sql.exec(index.indexdef);
}

async function hasDistricts(sql: Sql): Promise<boolean> {
  return (await sql.rows(`SELECT 1 FROM "districts" LIMIT 1`)).length > 0;
}

async function writeAll(sql: Sql, data: DemoData): Promise<void> {
  // One scrypt hash per distinct password, shared by the accounts that have it: the demo accounts (a few
  // hundred crews) all use the public DEMO_PASSWORD, where a salt per row protects nothing and a scrypt run
  // per row would cost seconds on every seed. A password changed later gets its own salt as usual.
  const hashes = new Map<string, Promise<string>>();
  const hashOnce = (password: string) => hashes.get(password) ?? hashes.set(password, hashPassword(password)).get(password)!;
  const passwordHashes = await Promise.all(data.users.map((user) => hashOnce(user.password)));
  await insertRows(sql, "districts", data.districts);
  await insertRows(sql, "maintenance_companies", data.companies);
  await withoutSecondaryIndexes(sql, ["sites", "elevators", "devices"], async () => {
    await insertRows(sql, "sites", data.sites);
    await insertRows(sql, "elevators", data.elevators);
    // The external-Mosquitto hash of each demo secret (the secret is derivable for demo devices only).
    await insertRows(sql, "devices", data.devices.map((d) => ({ ...d, mosquittoHash: mosquittoPasswordHash(demoDeviceSecret(d.id)) })));
  });
  await insertRows(sql, "rescue_stations", data.rescueStations);
  await insertRows(sql, "fire_stations", data.fireStations);
  await insertRows(sql, "teams", data.teams);
  await insertRows(sql, "users", data.users.map((user, i) => ({ ...user, passwordHash: passwordHashes[i] })));
  for (const table of SERIAL_TABLES) {
    // is_called=false with max+1 also works on an empty table, where setval(seq, NULL) would do nothing.
    await sql.exec(
      `SELECT setval(pg_get_serial_sequence('"${table}"', 'id'), COALESCE(MAX(id), 0) + 1, false) FROM "${table}"`,
    );
  }
}

export async function inTransaction<R>(prisma: PrismaClient, options: LoadOptions, fn: (sql: Sql) => Promise<R>): Promise<R> {
  if (options.raw) {
    return options.raw.withConnection(async (conn) => {
      await conn.exec("BEGIN");
      try {
        const result = await fn({ exec: async (s, p) => void (await conn.query(s, p)), rows: (s, p) => conn.query(s, p) });
        await conn.exec("COMMIT");
        return result;
      } catch (error) {
        await conn.exec("ROLLBACK").catch(() => {});
        throw error;
      }
    });
  }
  return prisma.$transaction(
    (tx) =>
      fn({
        exec: async (s, p = []) => void (await tx.$executeRawUnsafe(s, ...p)),
        rows: (s, p = []) => tx.$queryRawUnsafe(s, ...p),
      }),
    { maxWait: 60_000, timeout: 30 * 60_000 },
  );
}

export async function isDatabaseEmpty(prisma: PrismaClient): Promise<boolean> {
  return (await prisma.district.findFirst({ select: { id: true } })) === null;
}

/** Writes generated demo data in one transaction; fails (and writes nothing) if the rows already exist. */
export async function loadDemoData(prisma: PrismaClient, data: DemoData, options: LoadOptions = {}): Promise<void> {
  await inTransaction(prisma, options, (sql) => writeAll(sql, data));
  await analyze(prisma);
}

/**
 * Fresh statistics after a bulk load: without them the planner picks poor plans for the lookups
 * (measured on 200,000 elevators: rescue-code lookup p50 26 ms before ANALYZE, 8 ms after).
 */
function analyze(prisma: PrismaClient): Promise<number> {
  return prisma.$executeRawUnsafe("ANALYZE");
}

export async function countDemoData(prisma: PrismaClient, loaded = false): Promise<SeedSummary> {
  const [districts, companies, sites, elevators, devices, rescueStations, fireStations, teams, users] =
    await Promise.all([
      prisma.district.count(),
      prisma.maintenanceCompany.count(),
      prisma.site.count(),
      prisma.elevator.count(),
      prisma.device.count(),
      prisma.rescueStation.count(),
      prisma.fireStation.count(),
      prisma.team.count(),
      prisma.user.count(),
    ]);
  return { loaded, districts, companies, sites, elevators, devices, rescueStations, fireStations, teams, users };
}

/**
 * Loads the demo city when the database has no districts yet, and reports what the database holds.
 * Generation only happens when needed, under an advisory lock so concurrent starters load it once.
 */
export async function ensureDemoData(
  prisma: PrismaClient,
  options: GenerateOptions & LoadOptions = {},
): Promise<SeedSummary> {
  if (!(await isDatabaseEmpty(prisma))) return countDemoData(prisma, false);
  const loaded = await inTransaction(prisma, options, async (sql) => {
    await sql.rows(`SELECT pg_advisory_xact_lock(${LOCKS.seed})::text`);
    if (await hasDistricts(sql)) return false;
    await writeAll(sql, generateTianjinDemo(options));
    return true;
  });
  if (loaded) await analyze(prisma);
  return countDemoData(prisma, loaded);
}
