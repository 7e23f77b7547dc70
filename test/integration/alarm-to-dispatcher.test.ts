import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { distance } from "geokdbush";
import { startTestPlatform, type TestPlatform } from "../support/platform.ts";
import { connectConsole, connectDemoDevice } from "../support/clients.ts";
import type { IncidentView } from "../../server/contracts/index.ts";

/**
 * The platform's one path, end to end over real parts: a device publishes `trapped` over TCP, the alarm is
 * stored and acknowledged, an entrapment incident opens, the nearest available team of the elevator's
 * maintenance company is offered, and a dispatcher's Socket.io client sees it within a second.
 */
describe("alarm to dispatcher", () => {
  let platform: TestPlatform;
  let consoleClient: Awaited<ReturnType<typeof connectConsole>>;

  beforeAll(async () => {
    platform = await startTestPlatform();
    consoleClient = await connectConsole(platform.baseUrl);
  });
  afterAll(async () => {
    consoleClient?.close();
    await platform?.close();
  });

  const deviceElevator = async (deviceId: string) => {
    const device = await platform.db.prisma.device.findUniqueOrThrow({
      where: { id: deviceId },
      include: { elevator: { include: { site: true } } },
    });
    return device.elevator!;
  };

  it("turns a trapped alarm into a dispatched incident on the console within a second", async () => {
    const device = await connectDemoDevice(platform.mqttUrl, 3);
    try {
      const elevator = await deviceElevator(device.deviceId);
      const publishedAt = Date.now();
      const alarmId = device.raiseAlarm("trapped", { floor: 7, passengers: true, inDoorZone: false, detail: "停在7-8层之间" });
      await device.waitForAck(alarmId, 5000);

      const created = await consoleClient.waitFor<IncidentView>("incident:created", (i) => i.elevator.id === elevator.id, 1000);
      expect(created.at - publishedAt).toBeLessThan(1000);
      expect(created.payload.kind).toBe("entrapment");
      expect(created.payload.alarmCodes).toEqual(["trapped"]);
      const dispatched = await consoleClient.waitFor<IncidentView>(
        "incident:updated",
        (i) => i.elevator.id === elevator.id && i.status === "dispatched",
        2000,
      );
      expect(dispatched.payload.offers).toHaveLength(1);

      // Stored before the ack: the alarm row and the incident exist with the device's details.
      const alarm = await platform.db.prisma.alarm.findUniqueOrThrow({
        where: { deviceId_alarmId: { deviceId: device.deviceId, alarmId } },
      });
      expect(alarm).toMatchObject({ code: "trapped", severity: "critical", active: true, floor: 7, passengers: true });
      expect(alarm.incidentId).toBe(created.payload.id);

      // The chosen team is the contracted company's nearest available maintenance team.
      const offer = dispatched.payload.offers[0]!;
      const companyTeams = await platform.db.prisma.team.findMany({
        where: { maintenanceCompanyId: elevator.maintenanceCompanyId, kind: "maintenance" },
      });
      const nearest = companyTeams
        .map((t) => ({ id: t.id, km: distance(t.baseLng, t.baseLat, elevator.site.lng, elevator.site.lat) }))
        .sort((a, b) => a.km - b.km)[0]!;
      expect(offer.teamId).toBe(nearest.id);
      expect(offer.tier).toBe(1);
      expect(offer.status).toBe("offered");
      const team = await consoleClient.waitFor<{ id: number; status: string }>("team:updated", (t) => t.id === offer.teamId, 2000);
      expect(team.payload.status).toBe("offered");

      const events = await (await platform.fetch(`/api/incidents/${created.payload.id}/events`)).json();
      expect(events.map((e: { type: string }) => e.type)).toEqual(["reported", "offer_made", "transition"]);
    } finally {
      await device.close();
    }
  });

  it("keeps one alarm per (device, alarmId) and one incident per elevator event", async () => {
    const device = await connectDemoDevice(platform.mqttUrl, 4);
    try {
      const elevator = await deviceElevator(device.deviceId);
      const first = device.raiseAlarm("trapped", { passengers: true });
      await device.waitForAck(first);
      // The same alarm id again (a repeat the device sent before our ack reached it).
      await device.publishRaw("alarm", JSON.stringify({ ts: new Date().toISOString(), alarmId: first, code: "trapped", state: "raised" }));
      // A second alarm about the same elevator joins the open incident.
      const second = device.raiseAlarm("power_failure", { passengers: true });
      await device.waitForAck(second);
      await expect.poll(() => platform.db.prisma.alarm.count({ where: { deviceId: device.deviceId } })).toBe(2);
      await expect
        .poll(async () => (await platform.db.prisma.alarm.findFirstOrThrow({ where: { deviceId: device.deviceId, alarmId: first } })).repeatCount)
        .toBeGreaterThanOrEqual(1); // the device itself may also have repeated it before our ack arrived
      const incidents = await platform.db.prisma.incident.findMany({ where: { elevatorId: elevator.id } });
      expect(incidents).toHaveLength(1);
      const alarms = await platform.db.prisma.alarm.findMany({ where: { deviceId: device.deviceId } });
      expect(new Set(alarms.map((a) => a.incidentId))).toEqual(new Set([incidents[0]!.id]));
    } finally {
      await device.close();
    }
  });

  it("counts malformed messages, keeps running, and still takes the next valid one", async () => {
    const device = await connectDemoDevice(platform.mqttUrl, 5);
    try {
      const before = { ...platform.ingest.counters };
      await device.publishRaw("status", "{not json");
      // Status is latest-wins (docs/protocol.md, "Rates and limits"): a status replaced before the platform
      // read it is counted as superseded, not parsed; so the next one waits until this one is counted.
      await expect.poll(() => platform.ingest.counters.malformed_json - before.malformed_json).toBe(1);
      await device.publishRaw("status", JSON.stringify({ ts: "yesterday", seq: "x" }));
      await device.publishRaw("alarm", Buffer.alloc(5000, "a"));
      const alarmId = device.raiseAlarm("smoke_in_shaft", {});
      await device.waitForAck(alarmId);
      await expect.poll(() => platform.ingest.counters.malformed_json - before.malformed_json).toBe(1);
      expect(platform.ingest.counters.invalid_payload - before.invalid_payload).toBe(1);
      expect(platform.ingest.counters.oversized - before.oversized).toBe(1);
      expect(platform.ingest.counters.unknown_alarm_code - before.unknown_alarm_code).toBe(1);
      const unknown = await platform.db.prisma.alarm.findFirstOrThrow({ where: { deviceId: device.deviceId, alarmId } });
      expect(unknown).toMatchObject({ code: "unknown", rawCode: "smoke_in_shaft", incidentId: null });
      const health = await (await platform.fetch(`/api/health`)).json();
      expect(health.degradedReasons).toEqual([]);
      expect(health.status).toBe("ok");
      expect(health.ingest.malformed_json).toBeGreaterThanOrEqual(1);
    } finally {
      await device.close();
    }
  });
});
