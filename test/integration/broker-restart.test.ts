import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { skipReason } from "../support/skip.ts";
import { startTestPlatform, type TestPlatform } from "../support/platform.ts";
import { MOSQUITTO_BIN, startOwnMosquitto, type OwnBroker } from "../support/own-services.ts";
import { SimulatedDevice } from "../../devices/device.ts";
import { demoDeviceId, demoDeviceSecret } from "../../server/devices/secrets.ts";
import type { HealthView } from "../../server/contracts/index.ts";

const missing = skipReason(MOSQUITTO_BIN ? null : "mosquitto is not installed (apt-get install mosquitto): broker restart test skipped");

/**
 * The external broker dies and comes back: the platform keeps trying with a growing pause, resubscribes,
 * and an alarm sent afterwards is stored, acknowledged and opens an incident. Health and /metrics say so.
 */
describe.skipIf(missing)("faults: external broker restart", () => {
  let broker: OwnBroker;
  let platform: TestPlatform;
  let device: SimulatedDevice;

  const health = async () => (await (await fetch(`${platform.baseUrl}/api/health`)).json()) as HealthView;
  const metrics = async () => (await fetch(`${platform.baseUrl}/metrics`)).text();

  beforeAll(async () => {
    broker = await startOwnMosquitto();
    platform = await startTestPlatform({ MQTT_URL: broker.url });
    const deviceId = demoDeviceId(31);
    device = new SimulatedDevice({
      brokerUrl: broker.url,
      deviceId,
      secret: demoDeviceSecret(deviceId),
      floors: 18,
      alarmRepeatMs: 500,
      statusIntervalIdleMs: 60_000,
      motion: { tripsPerHour: 0 },
      reconnectPeriodMs: 200,
      connectTimeoutMs: 2000,
    });
    await device.connect();
  });

  afterAll(async () => {
    await device?.close();
    await platform?.close();
    await broker?.close();
  });

  it("reconnects with backoff, resubscribes, and stores and dispatches an alarm sent after the restart", async () => {
    const before = device.raiseAlarm("trapped", { passengers: true, inDoorZone: false, floor: 3 });
    await device.waitForAck(before, 10_000);
    expect((await health()).broker.links.map((l) => l.state)).toEqual(["connected", "connected"]);

    await broker.kill();
    await expect.poll(async () => (await health()).broker.ok, { timeout: 10_000 }).toBe(false);
    // Several attempts fail while the broker is down, each after a longer pause.
    await expect.poll(async () => Math.min(...(await health()).broker.links.map((l) => l.failedAttempts)), { timeout: 15_000, interval: 200 }).toBeGreaterThanOrEqual(3);
    const down = await health();
    expect(down.status).toBe("degraded");
    expect(down.degradedReasons).toContain("broker unreachable");
    for (const link of down.broker.links) {
      expect(link.state).toBe("reconnecting");
      expect(link.nextAttemptMs).toBeGreaterThan(500);
    }
    expect(await metrics()).toMatch(/lift96333_broker_link\{link="alarms",figure="up"\} 0/);

    await broker.start();
    await expect.poll(async () => (await health()).broker.ok, { timeout: 40_000, interval: 200 }).toBe(true);
    const up = await health();
    for (const link of up.broker.links) {
      expect(link.state).toBe("connected");
      expect(link.reconnects).toBe(1);
    }
    expect(await metrics()).toMatch(/lift96333_broker_link\{link="alarms",figure="reconnects"\} 1/);

    // The device reconnects by itself; its next alarm reaches the resubscribed platform.
    await expect.poll(() => device.connected, { timeout: 10_000 }).toBe(true);
    const after = device.raiseAlarm("trapped", { passengers: true, inDoorZone: false, floor: 7 });
    await device.waitForAck(after, 15_000);
    const stored = await platform.db.prisma.alarm.findMany({ where: { deviceId: device.deviceId, alarmId: after } });
    expect(stored).toHaveLength(1);
    expect(stored[0]!.incidentId).not.toBeNull();
    await expect
      .poll(async () => platform.db.prisma.dispatchOffer.count({ where: { incidentId: stored[0]!.incidentId! } }), { timeout: 10_000 })
      .toBeGreaterThan(0);
  }, 120_000);
});
