import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestPlatform, type TestPlatform } from "../support/platform.ts";
import { connectConsole, connectDemoDevice } from "../support/clients.ts";
import { connectRawDevice, publishPacket, statusJson } from "../support/raw-mqtt.ts";
import type { HealthView, IncidentView } from "../../server/contracts/index.ts";

/**
 * docs/protocol.md, "Rates and limits" and "Alarms come first": with a deliberately small status queue
 * (STATUS_QUEUE_MAX=40) and a status flood from every other demo device (~300) well over it, every alarm raised during the
 * flood is acknowledged within a second and reaches a dispatcher's socket, the queue never holds more
 * than its bound, the heap stays within HEAP_GROWTH_BOUND_MB, health says `degraded` with the figures
 * during the flood and `ok` within 5 s after it. Runs on the embedded broker, or through TEST_MQTT_URL's
 * broker (alarms on their own connection there).
 */
const QUEUE_MAX = 40;
const FLOOD_FIRST = 40;
const ALARM_FIRST = 20;
const ALARMS = 12;
/** What the flood may add to the server's heap (the test process hosts the server). */
const HEAP_GROWTH_BOUND_MB = 80;

describe("alarms under a status flood", () => {
  let platform: TestPlatform;
  let consoleClient: Awaited<ReturnType<typeof connectConsole>>;

  beforeAll(async () => {
    platform = await startTestPlatform({
      STATUS_QUEUE_MAX: String(QUEUE_MAX),
      // Each flooding device stays within its own limit: the flood is many devices, not a few rogue ones.
      DEVICE_STATUS_RATE: "20",
      DEVICE_STATUS_BURST: "40",
      ALARM_ACK_LATE_MS: "1000",
    });
    consoleClient = await connectConsole(platform.baseUrl);
  });
  afterAll(async () => {
    consoleClient?.close();
    await platform?.close();
  });

  const health = async () => (await (await fetch(`${platform.baseUrl}/api/health`)).json()) as HealthView;

  it("acks every alarm within a second and shows it to the dispatcher while status is shed, then recovers", async () => {
    // The test dataset's demo devices are numbered contiguously from 0.
    const floodDevices = platform.registry.size() - FLOOD_FIRST;
    expect(floodDevices).toBeGreaterThan(5 * QUEUE_MAX);
    const flood = await Promise.all(Array.from({ length: floodDevices }, (_, k) => connectRawDevice(platform.mqttUrl, FLOOD_FIRST + k)));
    const alarmDevices = await Promise.all(Array.from({ length: ALARMS }, (_, k) => connectDemoDevice(platform.mqttUrl, ALARM_FIRST + k)));
    const elevatorOf = new Map<string, number>();
    for (const d of alarmDevices) elevatorOf.set(d.deviceId, platform.registry.get(d.deviceId)!.elevatorId!);
    const heapBefore = process.memoryUsage().heapUsed;
    let heapMax = heapBefore;
    let queueMax = 0;
    const healthSeen: HealthView[] = [];

    // ~300 devices x 20 status/s = ~6,000/s, in bursts of one write per device every 50 ms.
    let seq = 0;
    const floodTimer = setInterval(() => {
      const ts = new Date().toISOString();
      for (const d of flood) if (d.socket.writableLength < 4096) d.socket.write(publishPacket(d.statusTopic, statusJson(seq++, ts)));
    }, 50);
    const watch = setInterval(() => {
      heapMax = Math.max(heapMax, process.memoryUsage().heapUsed);
      queueMax = Math.max(queueMax, platform.ingest.lane.size);
    }, 20);
    try {
      await expect.poll(() => platform.ingest.lane.shed.queue_full, { timeout: 5000 }).toBeGreaterThan(0);
      const results: { deviceId: string; ackMs: number; screenMs: number }[] = [];
      for (const device of alarmDevices) {
        const sentAt = Date.now();
        const alarmId = device.raiseAlarm("trapped", { floor: 3, passengers: true, inDoorZone: false });
        await device.waitForAck(alarmId, 5000);
        const ackMs = Date.now() - sentAt;
        const created = await consoleClient.waitFor<IncidentView>("incident:created", (i) => i.elevator.id === elevatorOf.get(device.deviceId), 5000);
        results.push({ deviceId: device.deviceId, ackMs, screenMs: created.at - sentAt });
        healthSeen.push(await health());
        await new Promise((r) => setTimeout(r, 300));
      }
      const shedDuringFlood = { ...platform.ingest.lane.shed };
      console.info(
        `[alarms-under-flood] ${flood.length} flooding devices; ack max ${Math.max(...results.map((r) => r.ackMs))} ms, ` +
          `on screen max ${Math.max(...results.map((r) => r.screenMs))} ms; queue max ${queueMax}/${QUEUE_MAX}; ` +
          `heap +${Math.round((heapMax - heapBefore) / 1048576)} MB; shed ${JSON.stringify(shedDuringFlood)}; ` +
          `health ${healthSeen.filter((h) => h.status === "degraded").length}/${healthSeen.length} degraded`,
      );

      for (const r of results) expect(r.ackMs, `${r.deviceId} ack`).toBeLessThan(1000);
      for (const r of results) expect(r.screenMs, `${r.deviceId} on screen`).toBeLessThan(2000);
      expect(queueMax).toBeLessThanOrEqual(QUEUE_MAX);
      expect((heapMax - heapBefore) / 1048576).toBeLessThan(HEAP_GROWTH_BOUND_MB);
      // Health told the truth during the flood: degraded, with the figures.
      const degraded = healthSeen.filter((h) => h.status === "degraded");
      expect(degraded.length).toBeGreaterThan(healthSeen.length / 2);
      expect(degraded.some((h) => h.degradedReasons.some((r) => r.startsWith("status shed")))).toBe(true);
      expect(degraded[0]!.devices.queueMax).toBe(QUEUE_MAX);
      expect(shedDuringFlood.queue_full + shedDuringFlood.superseded).toBeGreaterThan(0);
      const metrics = await (await fetch(`${platform.baseUrl}/metrics`)).text();
      expect(metrics).toMatch(/lift96333_alarm_to_ack_seconds_count \d+/);
      expect(metrics).toMatch(/lift96333_alarm_to_push_seconds_count [1-9]/);
      expect(metrics).toMatch(/lift96333_status_shed\{reason="queue_full"\} [1-9]/);
    } finally {
      clearInterval(floodTimer);
      clearInterval(watch);
    }

    // After the flood: ok within 5 s.
    const stoppedAt = Date.now();
    await expect.poll(async () => (await health()).status, { timeout: 5000, interval: 200 }).toBe("ok");
    expect(Date.now() - stoppedAt).toBeLessThan(5000);
    // And an alarm now is as quick as on an idle platform.
    const after = alarmDevices[0]!;
    const t0 = Date.now();
    await after.waitForAck(after.raiseAlarm("power_failure", { passengers: true }), 1000);
    expect(Date.now() - t0).toBeLessThan(500);

    flood.forEach((d) => d.socket.destroy());
    await Promise.all(alarmDevices.map((d) => d.close()));
  }, 60_000);
});
