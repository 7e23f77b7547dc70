/**
 * Child processes of the overload bench (forked with tsx), so that what offers the load and what measures
 * the alarms run outside the server's event loop:
 *  - `devices`: one raw TCP connection per demo device, speaking just enough MQTT 3.1.1 (CONNECT with the
 *    device's own credentials, QoS 0 PUBLISH of protocol-v1 status). Prebuilt bytes and one socket write
 *    per device per tick keep the publisher cheap, so that two cores can offer more than the server takes.
 *    A device whose socket does not drain drops its status (as a QoS 0 terminal does on a slow link).
 *  - `alarms`: mqtt.js terminals that raise `trapped` one after another every 300-500 ms, and a
 *    dispatcher's Socket.io client that records when each alarm's incident reaches the screen.
 */
import type net from "node:net";
import mqtt, { type MqttClient } from "mqtt";
import { io, type Socket } from "socket.io-client";
import { demoDeviceSecret } from "../../server/devices/secrets.ts";
import { connectRawDevice, publishPacket, statusJson } from "../support/raw-mqtt.ts";
import { topics } from "../../server/contracts/protocol.ts";
import type { IncidentView } from "../../server/contracts/index.ts";

export type OverloadCommand =
  | { cmd: "devices"; url: string; first: number; count: number }
  | { cmd: "rate"; perSecond: number }
  | { cmd: "alarms"; mqttUrl: string; httpUrl: string; cookie: string; deviceIds: string[]; elevatorOf: Record<string, number> }
  | { cmd: "alarms-run"; step: string | null }
  | { cmd: "report" }
  | { cmd: "stop" };

export interface AlarmRecord {
  deviceId: string;
  step: string;
  sentAt: number;
  ackAt: number | null;
  screenAt: number | null;
}

export type OverloadReply =
  | { type: "ready"; connected: number }
  | { type: "report"; offered: number; sent: number; alarms: AlarmRecord[] }
  | { type: "error"; message: string };

const send = (reply: OverloadReply) => process.send!(reply);

// ---- devices ----
let offered = 0;
let sent = 0;
let timer: NodeJS.Timeout | null = null;
const sockets: net.Socket[] = [];

async function startDevices(c: Extract<OverloadCommand, { cmd: "devices" }>) {
  const devices = [];
  for (let i = 0; i < c.count; i += 100) {
    devices.push(...(await Promise.all(Array.from({ length: Math.min(100, c.count - i) }, (_, k) => connectRawDevice(c.url, c.first + i + k)))));
  }
  sockets.push(...devices.map((d) => d.socket));
  const ids = devices.map((d) => d.deviceId);
  const topicBytes = devices.map((d) => d.statusTopic);
  const seq = new Array<number>(ids.length).fill(0);
  let perSecond = 0;
  let carry = 0;
  let last = performance.now();
  let cursor = 0;
  process.on("message", (m: OverloadCommand) => {
    if (m.cmd === "rate") perSecond = m.perSecond;
  });
  // Every 100 ms each device gets its share of the rate; what a device owes goes out in one write.
  timer = setInterval(() => {
    const now = performance.now();
    carry += (perSecond * (now - last)) / 1000;
    last = now;
    const budget = Math.floor(carry);
    carry -= budget;
    if (budget === 0) return;
    const ts = new Date().toISOString();
    const each = Math.floor(budget / ids.length);
    let extra = budget - each * ids.length;
    for (let n = 0; n < ids.length; n++) {
      const d = (cursor + n) % ids.length;
      const q = each + (extra > 0 ? 1 : 0);
      if (extra > 0) extra--;
      if (q === 0) continue;
      offered += q;
      const socket = sockets[d]!;
      // The terminal's link is full: it drops these status (QoS 0), as a real one would.
      if (socket.writableLength > 8192 || socket.destroyed) continue;
      const parts: Buffer[] = [];
      for (let k = 0; k < q; k++) {
        const s = seq[d]!++;
        parts.push(publishPacket(topicBytes[d]!, statusJson(s, ts)));
      }
      socket.write(parts.length === 1 ? parts[0]! : Buffer.concat(parts));
      sent += q;
    }
    cursor = (cursor + 1) % ids.length;
  }, 100);
}

// ---- alarms and the dispatcher's screen ----
const records: AlarmRecord[] = [];
let alarmClients: MqttClient[] = [];
let consoleSocket: Socket | null = null;
let alarmTimer: NodeJS.Timeout | null = null;

async function startAlarms(c: Extract<OverloadCommand, { cmd: "alarms" }>) {
  const open = new Map<number, AlarmRecord>(); // elevator id -> the alarm waiting for its incident
  const byAlarm = new Map<string, AlarmRecord>();
  consoleSocket = io(c.httpUrl, { transports: ["websocket"], reconnection: true, extraHeaders: { cookie: c.cookie } });
  await new Promise<void>((resolve, reject) => {
    consoleSocket!.once("connect", () => resolve());
    consoleSocket!.once("connect_error", reject);
  });
  consoleSocket.on("incident:created", (incident: IncidentView) => {
    const record = open.get(incident.elevator.id);
    if (record && record.screenAt === null) record.screenAt = Date.now();
  });
  alarmClients = [];
  for (let i = 0; i < c.deviceIds.length; i += 50) {
    alarmClients.push(
      ...(await Promise.all(
        c.deviceIds.slice(i, i + 50).map((id) =>
          mqtt.connectAsync(c.mqttUrl, { clientId: id, username: id, password: demoDeviceSecret(id), protocolVersion: 4, reconnectPeriod: 1000, keepalive: 60 }),
        ),
      )),
    );
  }
  alarmClients.forEach((client, k) => {
    const id = c.deviceIds[k]!;
    client.subscribe(topics.cmd(id), { qos: 1 });
    client.on("message", (_topic, payload) => {
      const m = JSON.parse(payload.toString()) as { cmd: string; alarmId?: string };
      const record = m.alarmId ? byAlarm.get(`${id}/${m.alarmId}`) : undefined;
      if (m.cmd === "ack" && record && record.ackAt === null) record.ackAt = Date.now();
    });
  });
  let next = 0;
  let step: string | null = null;
  const raise = () => {
    if (step !== null && next < alarmClients.length) {
      const k = next++;
      const id = c.deviceIds[k]!;
      const alarmId = `ovl-${k}`;
      const record: AlarmRecord = { deviceId: id, step, sentAt: Date.now(), ackAt: null, screenAt: null };
      records.push(record);
      byAlarm.set(`${id}/${alarmId}`, record);
      open.set(c.elevatorOf[id]!, record);
      const payload = JSON.stringify({ ts: new Date().toISOString(), alarmId, code: "trapped", state: "raised", floor: 5, passengers: true, inDoorZone: false });
      const client = alarmClients[k]!;
      client.publish(topics.alarm(id), payload, { qos: 1 });
      // Repeat until acknowledged, as docs/protocol.md asks of a terminal.
      const repeat = setInterval(() => {
        if (record.ackAt !== null || Date.now() - record.sentAt > 30_000) clearInterval(repeat);
        else client.publish(topics.alarm(id), payload, { qos: 1 });
      }, 2000);
    }
    alarmTimer = setTimeout(raise, 300 + Math.random() * 200);
  };
  process.on("message", (m: OverloadCommand) => {
    if (m.cmd === "alarms-run") step = m.step;
  });
  raise();
}

process.on("message", (m: OverloadCommand) => {
  const run = async () => {
    switch (m.cmd) {
      case "devices":
        await startDevices(m);
        return send({ type: "ready", connected: sockets.length });
      case "alarms":
        await startAlarms(m);
        return send({ type: "ready", connected: alarmClients.length });
      case "report":
        return send({ type: "report", offered, sent, alarms: records });
      case "stop":
        if (timer) clearInterval(timer);
        if (alarmTimer) clearTimeout(alarmTimer);
        sockets.forEach((s) => s.destroy());
        consoleSocket?.close();
        await Promise.all(alarmClients.map((c) => c.endAsync(true).catch(() => undefined)));
        process.exit(0);
    }
  };
  run().catch((error) => send({ type: "error", message: String(error?.stack ?? error) }));
});
