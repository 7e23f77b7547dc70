import crypto from "node:crypto";
import pg from "pg";
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { openDatabase, type OpenedDatabase } from "../../server/platform/db/adapter.ts";
import { applyMigrations } from "../../server/platform/db/migrate.ts";
import { PrismaClient } from "../../server/platform/db/generated/client.ts";
import { ensureDemoData, isDatabaseEmpty, loadDemoData } from "../../server/seed/load.ts";
import { DEMO_PASSWORD, generateTianjinDemo } from "../../server/seed/tianjin.ts";
import { verifyPassword } from "../../server/auth/password.ts";
import { demoDeviceSecret, verifyDeviceSecret } from "../../server/devices/secrets.ts";

interface Fresh {
  db: OpenedDatabase;
  prisma: PrismaClient;
  close(): Promise<void>;
}

/** PGlite in memory, or a throw-away database on the TEST_DATABASE_URL server. */
async function freshDatabase(): Promise<Fresh> {
  const serverUrl = process.env.TEST_DATABASE_URL;
  let db: OpenedDatabase;
  let dropDatabase = async () => {};
  if (serverUrl) {
    const name = `seed_test_${crypto.randomBytes(4).toString("hex")}`;
    const admin = new URL(serverUrl);
    admin.pathname = "/postgres";
    const client = new pg.Client({ connectionString: admin.toString() });
    await client.connect();
    await client.query(`CREATE DATABASE "${name}"`);
    await client.end();
    const url = new URL(serverUrl);
    url.pathname = `/${name}`;
    db = openDatabase({ kind: "postgres", url: url.toString() }, { poolSize: 2 });
    dropDatabase = async () => {
      const c = new pg.Client({ connectionString: admin.toString() });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await c.end();
    };
  } else {
    db = openDatabase({ kind: "pglite", dataDir: null });
  }
  await applyMigrations(db.raw);
  const prisma = new PrismaClient({ adapter: db.factory });
  return {
    db,
    prisma,
    async close() {
      await prisma.$disconnect();
      await db.raw.close().catch(() => {});
      await dropDatabase();
    },
  };
}

const data = generateTianjinDemo({ seed: 96333, elevators: 2000, now: new Date("2026-11-27T00:00:00Z") });

describe("loading the Tianjin demo data", () => {
  let fresh: Fresh;
  beforeAll(async () => {
    fresh = await freshDatabase();
  });
  afterAll(async () => {
    await fresh?.close();
  });

  it("writes every row through Prisma and moves the id sequences on", async () => {
    const { prisma } = fresh;
    expect(await isDatabaseEmpty(prisma)).toBe(true);
    await loadDemoData(prisma, data);
    expect(await isDatabaseEmpty(prisma)).toBe(false);
    expect(await prisma.district.count()).toBe(16);
    expect(await prisma.maintenanceCompany.count()).toBe(data.companies.length);
    expect(await prisma.site.count()).toBe(data.sites.length);
    expect(await prisma.elevator.count()).toBe(2000);
    expect(await prisma.device.count()).toBe(data.devices.length);
    expect(await prisma.rescueStation.count()).toBe(120);
    expect(await prisma.fireStation.count()).toBe(30);
    expect(await prisma.team.count()).toBe(data.teams.length);
    expect(await prisma.user.count()).toBe(data.users.length);

    const created = await prisma.maintenanceCompany.create({
      data: { name: "测试电梯公司", licenseNo: "TS-TEST", contactName: "张三", contactPhone: "022-0", address: "天津" },
    });
    expect(created.id).toBe(data.companies.length + 1);
  });

  it("round-trips values: dates, GeoJSON outlines, enums, relations", async () => {
    const { prisma } = fresh;
    const first = data.elevators[0]!;
    const row = await prisma.elevator.findUniqueOrThrow({
      where: { rescueCode: first.rescueCode },
      include: { site: { include: { district: true } }, device: true },
    });
    expect(row.registrationCode).toBe(first.registrationCode);
    expect(row.installDate.toISOString()).toBe(first.installDate.toISOString());
    expect(row.nextInspectionDue.toISOString()).toBe(first.nextInspectionDue.toISOString());
    expect(row.lastMaintenanceAt?.toISOString()).toBe(first.lastMaintenanceAt.toISOString());
    expect(row.site.district.outline).toEqual(data.districts[row.site.districtId - 1]!.outline);
    if (row.device) expect(verifyDeviceSecret(demoDeviceSecret(row.device.id), row.device.secretHash)).toBe(true);

    const rescuer = await prisma.user.findUniqueOrThrow({ where: { username: "rescuer1" }, include: { team: true } });
    expect(rescuer.role).toBe("rescuer");
    expect(rescuer.team?.kind).toBe("maintenance");
    expect(await verifyPassword(DEMO_PASSWORD, rescuer.passwordHash)).toBe(true);
    expect(await prisma.team.count({ where: { kind: "rescue_station" } })).toBe(120);
  });

  it("finds sites by a misspelt address with the trigram index", async () => {
    const { db } = fresh;
    const site = data.sites[0]!;
    // One character dropped, as a hurried dispatcher might type it.
    const query = site.address.slice(0, 5) + site.address.slice(6);
    const similar = await db.raw.query<{ name: string; address: string }>(
      `SELECT name, address FROM sites WHERE address % $1 ORDER BY similarity(address, $1) DESC LIMIT 20`,
      [query],
    );
    expect(similar.map((r) => r.address)).toContain(site.address);
    const [score] = await db.raw.query<{ s: number }>(`SELECT similarity($1, $2) AS s`, [site.address, query]);
    expect(Number(score!.s)).toBeGreaterThan(0.5);
  });

  it("ensureDemoData leaves a loaded database alone", async () => {
    const summary = await ensureDemoData(fresh.prisma, { elevators: 50 });
    expect(summary).toMatchObject({ loaded: false, districts: 16, elevators: 2000, devices: data.devices.length });
  });
});

describe("ensureDemoData over the raw channel", () => {
  let fresh: Fresh;
  beforeAll(async () => {
    fresh = await freshDatabase();
  });
  afterAll(async () => {
    await fresh?.close();
  });

  it("loads an empty database once and reports the counts", async () => {
    const options = { seed: 5, elevators: 2000, raw: fresh.db.raw };
    const summary = await ensureDemoData(fresh.prisma, options);
    expect(summary).toMatchObject({ loaded: true, districts: 16, elevators: 2000, rescueStations: 120, fireStations: 30 });
    expect(summary.devices).toBeGreaterThan(1600);
    expect((await ensureDemoData(fresh.prisma, options)).loaded).toBe(false);
    const indexes = await fresh.db.raw.query<{ indexname: string }>(
      `SELECT indexname FROM pg_indexes WHERE tablename IN ('sites', 'elevators', 'devices') ORDER BY 1`,
    );
    expect(indexes.map((i) => i.indexname)).toEqual(
      expect.arrayContaining(["sites_address_trgm_idx", "sites_name_trgm_idx", "elevators_rescueCode_key", "devices_elevatorId_key"]),
    );
  });
});
