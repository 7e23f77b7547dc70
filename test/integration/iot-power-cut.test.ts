import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestPlatform, type TestPlatform } from "../support/platform.ts";
import { runFleet, type FleetHandle } from "../../devices/fleet.ts";
import type { AlarmPayload } from "../../server/devices/protocol.ts";

/**
 * A city-district power cut, compressed in time: 120 demo devices lose power within 3 s,
 * loaded cars outside the door zone raise `trapped` on top of `power_failure`, every alarm is repeated
 * until acknowledged. Afterwards: one alarm row per raised (device, alarmId), none left unacknowledged,
 * and one incident per elevator of the kind the catalogue asks for.
 */
describe("iot: power cut", () => {
  let platform: TestPlatform;
  let fleet: FleetHandle | null = null;
  const DEVICES = 120;

  beforeAll(async () => {
    platform = await startTestPlatform();
  });
  afterAll(async () => {
    await fleet?.stop();
    await platform?.close();
  });

  it("leaves exactly one alarm per raised alarmId and the right incidents", async () => {
    const timing = { startAfterMs: 500, trappedDelayMs: 400, powerCutWindowMs: 3000, minorAlarmsPerDeviceDay: 0 };
    fleet = runFleet({
      brokerUrl: platform.mqttUrl,
      count: DEVICES,
      firstIndex: 40,
      scenario: "power-cut",
      ratePerSecond: 400,
      alarmRepeatMs: 1000,
      statusIntervalIdleMs: 2000,
      seed: 7,
      timing,
    });
    const raised = new Map<string, AlarmPayload>(); // `${deviceId}/${alarmId}` -> first copy sent
    for (const d of fleet.devices) {
      d.on("alarm", (a) => {
        if (a.state === "raised" && !raised.has(`${d.deviceId}/${a.alarmId}`)) raised.set(`${d.deviceId}/${a.alarmId}`, a);
      });
    }
    // The cut starts after the whole fleet connected (slow on a loaded machine): wait for every
    // power_failure, then for the last `trapped` (at most 2 x trappedDelayMs later), then for every ack.
    const powerFailuresRaised = () => [...raised.values()].filter((a) => a.code === "power_failure").length;
    await expect.poll(powerFailuresRaised, { timeout: 60_000, interval: 250 }).toBe(DEVICES);
    await new Promise((r) => setTimeout(r, 2 * timing.trappedDelayMs + 500));
    await expect.poll(() => fleet!.stats().unackedAlarms, { timeout: 30_000, interval: 250 }).toBe(0);
    const stats = fleet.stats();
    expect(stats.connectFailures).toBe(0);
    expect(stats.alarmsRaised).toBe(raised.size);
    expect(stats.unackedAlarms).toBe(0);

    const deviceIds = fleet.devices.map((d) => d.deviceId);
    const trapped = [...raised.values()].filter((a) => a.code === "trapped");
    const powerFailures = [...raised.values()].filter((a) => a.code === "power_failure");
    expect(powerFailures).toHaveLength(DEVICES);
    expect(trapped.length).toBeGreaterThan(0);

    const rows = await platform.db.prisma.alarm.findMany({ where: { deviceId: { in: deviceIds } } });
    expect(rows).toHaveLength(raised.size);
    expect(new Set(rows.map((r) => `${r.deviceId}/${r.alarmId}`))).toEqual(new Set(raised.keys()));
    // Repeats updated their row (repeatCount) instead of adding rows.
    expect(rows.every((r) => r.active && r.incidentId !== null)).toBe(true);

    const devices = await platform.db.prisma.device.findMany({ where: { id: { in: deviceIds } }, select: { id: true, elevatorId: true } });
    const elevatorOf = new Map(devices.map((d) => [d.id, d.elevatorId!]));
    const incidents = await platform.db.prisma.incident.findMany({
      where: { elevatorId: { in: [...elevatorOf.values()] } },
      select: { id: true, elevatorId: true, kind: true, source: true },
    });
    // No duplicate incidents: one per elevator.
    expect(incidents).toHaveLength(DEVICES);
    expect(new Set(incidents.map((i) => i.elevatorId)).size).toBe(DEVICES);

    // Catalogue: trapped -> entrapment; power_failure with passengers -> entrapment, without -> fault ticket.
    const wantEntrapment = new Set<number>();
    for (const [key, alarm] of raised) {
      if (alarm.code === "trapped" || alarm.passengers) wantEntrapment.add(elevatorOf.get(key.split("/")[0]!)!);
    }
    for (const incident of incidents) {
      expect(incident.source).toBe("alarm");
      expect(incident.kind).toBe(wantEntrapment.has(incident.elevatorId) ? "entrapment" : "fault");
    }
    const trappedElevators = new Set(trapped.map((a) => elevatorOf.get([...raised].find(([, v]) => v === a)![0].split("/")[0]!)));
    for (const e of trappedElevators) expect(wantEntrapment.has(e!)).toBe(true);
    expect(incidents.filter((i) => i.kind === "fault").length).toBeGreaterThan(0);
    // Every alarm of one elevator is attached to that elevator's one incident.
    const incidentOf = new Map(incidents.map((i) => [i.elevatorId, i.id]));
    for (const r of rows) expect(r.incidentId).toBe(incidentOf.get(r.elevatorId!));
    expect(platform.ingest.counters.alarm_store_failed).toBe(0);
    console.log(
      `[power-cut] ${DEVICES} devices, ${raised.size} alarms (${trapped.length} trapped), ` +
        `${stats.alarmRepeats} repeats, ${wantEntrapment.size} entrapment + ${DEVICES - wantEntrapment.size} fault incidents`,
    );
  });
});
