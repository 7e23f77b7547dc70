import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { skipReason } from "../support/skip.ts";
import { startTestPlatform, type TestPlatform } from "../support/platform.ts";
import { POSTGRES_BIN_DIR, startOwnPostgres, type OwnPostgres } from "../support/own-services.ts";
import { seedTestDatabase } from "../support/database.ts";
import { connectDemoDevice } from "../support/clients.ts";
import type { SimulatedDevice } from "../../devices/device.ts";
import type { HealthView } from "../../server/contracts/index.ts";

const missing = skipReason(POSTGRES_BIN_DIR ? null : "PostgreSQL server binaries are not installed (/usr/lib/postgresql/*/bin): database outage test skipped");

const DEVICES = 6;
const OUTAGE_MS = Number(process.env.TEST_DB_OUTAGE_MS ?? 10_000);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * PostgreSQL (a cluster of the test's own) stops while devices send alarms and status: nothing is
 * acknowledged before it is stored, what waits is bounded, health says degraded, and once the database is
 * back every alarm is stored exactly once without anyone restarting anything.
 */
describe.skipIf(missing)("faults: database outage", () => {
  let postgres: OwnPostgres;
  let platform: TestPlatform;
  const devices: SimulatedDevice[] = [];

  const health = async () => (await (await fetch(`${platform.baseUrl}/api/health`)).json()) as HealthView;

  beforeAll(async () => {
    postgres = await startOwnPostgres();
    const url = await postgres.createDatabase("lift96333_outage");
    await seedTestDatabase(url);
    platform = await startTestPlatform(
      { ALARM_PENDING_PER_DEVICE: "2", SAMPLE_BACKLOG_MAX: "8", STATUS_FLUSH_MS: "200", SLA_TICK_MS: "200" },
      { database: { url, kind: "postgres", drop: async () => {} }, embeddedBroker: true },
    );
    for (let i = 0; i < DEVICES; i++) devices.push(await connectDemoDevice(platform.mqttUrl, 40 + i));
  }, 180_000);

  afterAll(async () => {
    await Promise.all(devices.map((d) => d.close()));
    await platform?.close();
    await postgres?.close();
  });

  it("acknowledges nothing unstored, stays bounded and degraded, and resumes by itself", async () => {
    const first = devices[0]!.raiseAlarm("trapped", { passengers: true, inDoorZone: false });
    await devices[0]!.waitForAck(first);
    expect((await health()).database.ok).toBe(true);

    await postgres.stop();
    const stoppedAt = Date.now();
    await expect.poll(async () => (await health()).status, { timeout: 10_000 }).toBe("degraded");
    expect((await health()).degradedReasons).toContain("database unreachable");

    // Three alarms per device (one more than a device may have waiting) and status all along.
    const raised = devices.map((d) => [0, 1, 2].map((k) => d.raiseAlarm(k === 0 ? "trapped" : "door_fault", { passengers: k === 0, inDoorZone: false })));
    while (Date.now() - stoppedAt < OUTAGE_MS) {
      for (const d of devices) d.publishStatus();
      await sleep(250);
      const view = await health();
      expect(view.devices.pendingAlarmStores).toBeLessThanOrEqual(DEVICES * 2);
      expect(view.devices.writeBacklog.samples).toBeLessThanOrEqual(8);
    }
    for (const [i, d] of devices.entries()) for (const alarmId of raised[i]!) expect(d.acked.has(alarmId)).toBe(false);
    const during = await health();
    expect(during.status).toBe("degraded");
    expect(during.ingest.alarm_store_failed).toBeGreaterThan(0);
    expect(during.ingest.alarm_deferred).toBeGreaterThan(0);
    expect(during.ingest.samples_dropped).toBeGreaterThan(0);
    expect(await (await fetch(`${platform.baseUrl}/metrics`)).text()).toMatch(/lift96333_ingest_messages\{outcome="samples_dropped"\} [1-9]/);

    await postgres.start();
    const restartedAt = Date.now();
    await Promise.all(devices.flatMap((d, i) => raised[i]!.map((alarmId) => d.waitForAck(alarmId, 60_000))));
    const ackedAfterS = (Date.now() - restartedAt) / 1000;
    await expect.poll(async () => (await health()).status, { timeout: 90_000, interval: 500 }).toBe("ok");
    console.log(`database outage: ${OUTAGE_MS / 1000} s; every alarm acknowledged ${ackedAfterS.toFixed(1)} s after the database came back`);

    // Exactly once by device + alarmId, and the backlog of status history written.
    const rows = await platform.db.prisma.alarm.groupBy({
      by: ["deviceId", "alarmId"],
      where: { deviceId: { in: devices.map((d) => d.deviceId) } },
      _count: { _all: true },
    });
    expect(rows.filter((r) => r._count._all !== 1)).toEqual([]);
    expect(rows).toHaveLength(1 + DEVICES * 3);
    const after = await health();
    expect(after.devices.writeBacklog).toEqual({ samples: 0, presence: 0 });
    expect(await platform.db.prisma.statusSample.count({ where: { deviceId: { in: devices.map((d) => d.deviceId) } } })).toBeGreaterThan(0);
  }, 240_000);
});
