import net from "node:net";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { Aedes } from "aedes";
import mqtt, { type MqttClient } from "mqtt";
import {
  alarmPayloadSchema,
  connPayloadSchema,
  statusPayloadSchema,
  topics,
  type AlarmPayload,
} from "../../server/devices/protocol.ts";
import { SimulatedDevice, type SimulatedDeviceOptions } from "../../devices/device.ts";
import { malformedCases, runFleet, UNKNOWN_ALARM_CODE, type FleetHandle } from "../../devices/fleet.ts";

interface Received {
  topic: string;
  text: string;
  bytes: number;
  retain: boolean;
}

let broker: Aedes;
let server: net.Server;
let url: string;
const cleanups: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  broker = await Aedes.createBroker();
  server = net.createServer(broker.handle);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `mqtt://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
});

afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!().catch(() => undefined);
});

afterAll(async () => {
  await new Promise<void>((resolve) => broker.close(() => resolve()));
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

async function observer(filter = "lift/v1/#") {
  const client: MqttClient = await mqtt.connectAsync(url, { clientId: `obs-${Math.random().toString(36).slice(2)}` });
  cleanups.push(() => client.endAsync(true));
  const got: Received[] = [];
  client.on("message", (topic, payload, packet) =>
    got.push({ topic, text: payload.toString("utf8"), bytes: payload.length, retain: packet.retain }),
  );
  await client.subscribeAsync(filter, { qos: 1 });
  return { client, got };
}

function device(id: string, extra: Partial<SimulatedDeviceOptions> = {}): SimulatedDevice {
  const d = new SimulatedDevice({
    brokerUrl: url,
    deviceId: id,
    secret: "test-secret",
    floors: 12,
    statusIntervalIdleMs: 100,
    statusIntervalMovingMs: 50,
    alarmRepeatMs: 100,
    motion: { tripsPerHour: 3600 },
    ...extra,
  });
  cleanups.push(() => d.close());
  return d;
}

async function waitFor(cond: () => boolean, timeoutMs = 5000, what = "condition"): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const alarmsOf = (got: Received[], id: string): AlarmPayload[] =>
  got.flatMap((m) => {
    if (m.topic !== topics.alarm(id)) return [];
    const r = alarmPayloadSchema.safeParse(JSON.parse(m.text));
    return r.success ? [r.data] : []; // the malformed scenario's oversized alarm is not valid
  });

describe("SimulatedDevice over MQTT (in-process Aedes)", () => {
  it("publishes a retained online message and valid status messages with seq +1", async () => {
    const id = "sim-test-01";
    const { got } = await observer();
    const d = device(id);
    await d.connect();

    // A subscriber arriving later still gets the retained online flag.
    const late = await observer(topics.conn(id));
    await waitFor(() => late.got.length > 0, 2000, "retained conn");
    expect(late.got[0]!.retain).toBe(true);
    expect(connPayloadSchema.parse(JSON.parse(late.got[0]!.text))).toEqual({ online: true, fw: "1.4.2" });

    await waitFor(() => got.filter((m) => m.topic === topics.status(id)).length >= 8, 5000, "8 statuses");
    const statuses = got.filter((m) => m.topic === topics.status(id)).map((m) => statusPayloadSchema.parse(JSON.parse(m.text)));
    statuses.forEach((s, i) => {
      if (i > 0) expect(s.seq).toBe(statuses[i - 1]!.seq + 1);
      if (s.moving) expect(s.door).toBe("closed");
    });
    expect(statuses[0]!.seq).toBe(1);
  });

  it("repeats a raised alarm until the platform acks it, then stops; a clear is repeated until acked too", async () => {
    const id = "sim-test-02";
    const { client, got } = await observer();
    const d = device(id);
    await d.connect();
    const alarmId = d.raiseAlarm("trapped", { passengers: true, inDoorZone: false });

    await waitFor(() => alarmsOf(got, id).length >= 3, 3000, "3 repeats");
    const raised = alarmsOf(got, id);
    expect(new Set(raised.map((a) => a.alarmId))).toEqual(new Set([alarmId]));
    expect(raised[0]).toMatchObject({ code: "trapped", state: "raised", passengers: true, inDoorZone: false });
    expect(d.unackedAlarms).toEqual([alarmId]);

    await client.publishAsync(topics.cmd(id), JSON.stringify({ cmd: "ack", alarmId }), { qos: 1 });
    await d.waitForAck(alarmId, 2000);
    expect(d.acked.has(alarmId)).toBe(true);
    const afterAck = alarmsOf(got, id).length;
    await sleep(500);
    expect(alarmsOf(got, id).length).toBeLessThanOrEqual(afterAck + 2); // repeats already in flight
    const settled = alarmsOf(got, id).length;
    await sleep(300);
    expect(alarmsOf(got, id).length).toBe(settled);

    d.clearAlarm(alarmId);
    await waitFor(() => alarmsOf(got, id).filter((a) => a.state === "cleared").length >= 2, 3000, "cleared repeats");
    await client.publishAsync(topics.cmd(id), JSON.stringify({ cmd: "ack", alarmId }), { qos: 1 });
    await waitFor(() => d.counters.acksReceived === 2, 2000, "second ack");
    await sleep(150);
    const n = alarmsOf(got, id).length;
    await sleep(300);
    expect(alarmsOf(got, id).length).toBe(n);
  });

  it("answers snapshot with a status and records voice text", async () => {
    const id = "sim-test-03";
    const { client, got } = await observer();
    const d = device(id, { statusIntervalIdleMs: 60_000, statusIntervalMovingMs: 60_000, motion: { tripsPerHour: 0 } });
    await d.connect();
    await waitFor(() => got.some((m) => m.topic === topics.status(id)), 2000, "first status");
    const before = got.filter((m) => m.topic === topics.status(id)).length;
    await client.publishAsync(topics.cmd(id), JSON.stringify({ cmd: "snapshot" }), { qos: 1 });
    await waitFor(() => got.filter((m) => m.topic === topics.status(id)).length === before + 1, 2000, "snapshot");
    await client.publishAsync(topics.cmd(id), JSON.stringify({ cmd: "voice", text: "救援人员已出发，请保持冷静" }), { qos: 1 });
    await waitFor(() => d.voiceMessages.length === 1, 2000, "voice");
    expect(d.voiceMessages).toEqual(["救援人员已出发，请保持冷静"]);
    // Garbage on the cmd topic is ignored.
    await client.publishAsync(topics.cmd(id), "not json", { qos: 1 });
    await client.publishAsync(topics.cmd(id), JSON.stringify({ cmd: "reboot" }), { qos: 1 });
    await sleep(100);
    expect(d.counters.commands).toBe(2);
  });

  it("fires the Last Will on an ungraceful drop and publishes online:false on a graceful one", async () => {
    const { got } = await observer();
    const a = device("sim-test-04");
    await a.connect();
    await a.goOffline({ graceful: false });
    await waitFor(
      () => got.some((m) => m.topic === topics.conn("sim-test-04") && JSON.parse(m.text).online === false),
      3000,
      "last will",
    );
    expect(a.counters.conn).toBe(1); // the online:false came from the broker, not the device

    const b = device("sim-test-05");
    await b.connect();
    await b.goOffline({ graceful: true });
    expect(b.counters.conn).toBe(2);
    const late = await observer("lift/v1/+/conn");
    await waitFor(() => late.got.length >= 2, 2000, "retained conns");
    for (const id of ["sim-test-04", "sim-test-05"]) {
      const m = late.got.find((x) => x.topic === topics.conn(id))!;
      expect(m.retain).toBe(true);
      expect(JSON.parse(m.text)).toEqual({ online: false });
    }
  });
});

describe("runFleet scenarios (in-process Aedes)", () => {
  let nextFirst = 90_000;
  async function fleet(opts: Partial<Parameters<typeof runFleet>[0]> & Pick<Parameters<typeof runFleet>[0], "scenario" | "count">) {
    const f: FleetHandle = runFleet({
      brokerUrl: url,
      firstIndex: (nextFirst += 100),
      statusIntervalIdleMs: 1000,
      alarmRepeatMs: 200,
      tickMs: 20,
      ...opts,
      timing: { startAfterMs: 50, trappedDelayMs: 100, malformedGapMs: 20, flapPeriodMs: 200, ...opts.timing },
    });
    cleanups.push(() => f.stop());
    return f;
  }

  it("malformed: sends the invalid payloads it claims", async () => {
    const { got } = await observer();
    const f = await fleet({ scenario: "malformed", count: 1 });
    const id = f.devices[0]!.deviceId;
    await waitFor(() => f.malformedSent.length === 5, 5000, "malformed cases");
    const names = f.malformedSent.map((c) => c.name);
    expect(names).toEqual(["invalid-json", "wrong-types", "oversized-5KiB", "unknown-topic", "unknown-alarm-code"]);
    for (const c of f.malformedSent.slice(0, 4)) {
      await waitFor(() => got.some((m) => m.topic === c.topic && m.text === c.payload), 3000, c.name);
    }
    await waitFor(() => alarmsOf(got, id).some((a) => a.code === UNKNOWN_ALARM_CODE), 3000, "unknown code");
    expect(() => JSON.parse(f.malformedSent[0]!.payload)).toThrow();
    expect(statusPayloadSchema.safeParse(JSON.parse(f.malformedSent[1]!.payload)).success).toBe(false);
    expect(got.find((m) => m.text === f.malformedSent[2]!.payload)!.bytes).toBe(5 * 1024);
    expect(f.malformedSent[3]!.topic).toBe(`lift/v1/${id}/telemetry`);
    const unknown = alarmsOf(got, id).find((a) => a.code === UNKNOWN_ALARM_CODE);
    expect(unknown).toMatchObject({ state: "raised", alarmId: f.malformedSent[4]!.payload });
    expect(malformedCases(id).map((c) => c.name)).toEqual(names.slice(0, 4));
  });

  it("entrapment: the first device stops between floors with passengers and raises trapped until acked", async () => {
    const { client, got } = await observer();
    const f = await fleet({ scenario: "entrapment", count: 3 });
    const id = f.devices[0]!.deviceId;
    await waitFor(() => alarmsOf(got, id).some((a) => a.code === "trapped"), 5000, "trapped");
    const trapped = alarmsOf(got, id).find((a) => a.code === "trapped")!;
    expect(trapped).toMatchObject({ state: "raised", passengers: true, inDoorZone: false });
    expect(trapped.detail).toMatch(/^car stopped between floors \d+ and \d+$/);
    const statuses = got.filter((m) => m.topic === topics.status(id)).map((m) => statusPayloadSchema.parse(JSON.parse(m.text)));
    expect(statuses.at(-1)).toMatchObject({ moving: false, inDoorZone: false, passengers: true });
    await client.publishAsync(topics.cmd(id), JSON.stringify({ cmd: "ack", alarmId: trapped.alarmId }), { qos: 1 });
    await waitFor(() => f.stats().acksReceived === 1 && f.stats().unackedAlarms === 0, 2000, "ack counted");
    expect(f.stats().connected).toBe(3);
  });

  it("power-cut: every device raises power_failure within the window; loaded cars outside the door zone raise trapped", async () => {
    const { got } = await observer("lift/v1/+/alarm");
    const f = await fleet({ scenario: "power-cut", count: 40, timing: { powerCutWindowMs: 300 } });
    const distinct = () => {
      const first = new Map<string, AlarmPayload>();
      for (const m of got) {
        const a = alarmPayloadSchema.parse(JSON.parse(m.text));
        first.set(`${m.topic}|${a.alarmId}`, a);
      }
      return [...first.values()];
    };
    await waitFor(() => distinct().filter((a) => a.code === "power_failure").length === 40, 5000, "power_failure from all");
    expect(f.devices.every((d) => d.motion.mode === "power_backup")).toBe(true);
    const loaded = f.devices.filter((d) => d.motion.riders > 0 && d.motion.door === "closed").length;
    await waitFor(() => distinct().filter((a) => a.code === "trapped").length >= loaded, 5000, "trapped");
    await sleep(300);
    const alarms = distinct();
    const trapped = alarms.filter((a) => a.code === "trapped");
    for (const a of trapped) expect(a).toMatchObject({ passengers: true, inDoorZone: false });
    expect(trapped.length).toBe(loaded);
    expect(loaded).toBeGreaterThan(0);
  });

  it("flapping: raises and clears stopped_outside_door_zone over and over", async () => {
    const { got } = await observer("lift/v1/+/alarm");
    const f = await fleet({ scenario: "flapping", count: 1 });
    const id = f.devices[0]!.deviceId;
    await waitFor(() => new Set(alarmsOf(got, id).map((a) => a.alarmId)).size >= 3, 5000, "3 flaps");
    const a = alarmsOf(got, id);
    expect(a.every((x) => x.code === "stopped_outside_door_zone")).toBe(true);
    expect(a.some((x) => x.state === "cleared")).toBe(true);
  });

  it("offline: the first device drops without DISCONNECT and the broker publishes its Last Will", async () => {
    const { got } = await observer("lift/v1/+/conn");
    const f = await fleet({ scenario: "offline", count: 2 });
    const id = f.devices[0]!.deviceId;
    await waitFor(() => got.some((m) => m.topic === topics.conn(id) && !m.retain && m.text === '{"online":false}'), 5000, "will");
    expect(f.devices[0]!.connected).toBe(false);
    expect(f.devices[1]!.connected).toBe(true);
  });
});
