/**
 * Bench child processes (forked with tsx): `publisher` connects a range of demo devices and publishes
 * protocol-v1 status messages at a target rate.
 * Separate processes, because one process cannot both generate ~20,000 msg/s and host the server.
 */
import mqtt, { type MqttClient } from "mqtt";
import { demoDeviceId, demoDeviceSecret } from "../../server/devices/secrets.ts";
import { topics } from "../../server/devices/protocol.ts";

export type WorkerCommand =
  | {
      cmd: "publisher";
      url: string;
      first: number;
      count: number;
      demoKey?: string;
    }
  | { cmd: "rate"; perSecond: number }
  | { cmd: "report" }
  | { cmd: "stop" };

export type WorkerReply = { type: "ready" } | { type: "report"; count: number; at: number } | { type: "error"; message: string };

const send = (reply: WorkerReply) => process.send!(reply);
let count = 0;
let clients: MqttClient[] = [];
let timer: NodeJS.Timeout | null = null;

async function startPublisher(c: Extract<WorkerCommand, { cmd: "publisher" }>) {
  const ids = Array.from({ length: c.count }, (_, k) => demoDeviceId(c.first + k));
  // One connection per device: the embedded broker takes status only from the device's own connection.
  for (let i = 0; i < ids.length; i += 100) {
    clients.push(
      ...(await Promise.all(
        ids.slice(i, i + 100).map((id) =>
          mqtt.connectAsync(c.url, {
            clientId: id,
            username: id,
            password: demoDeviceSecret(id, c.demoKey),
            protocolVersion: 4,
            reconnectPeriod: 0,
            keepalive: 60,
            queueQoSZero: false,
          }),
        ),
      )),
    );
  }
  const seq = new Array<number>(ids.length).fill(0);
  // Messages handed to mqtt.js but not yet written to its socket, per connection.
  const inflight = new Array<number>(clients.length).fill(0);
  const statusTopics = ids.map((id) => topics.status(id));
  let perSecond = 0;
  let next = 0;
  let carry = 0;
  let last = performance.now();
  process.on("message", (m: WorkerCommand) => {
    if (m.cmd === "rate") perSecond = m.perSecond;
  });
  timer = setInterval(() => {
    const now = performance.now();
    carry += (perSecond * (now - last)) / 1000;
    last = now;
    let budget = Math.floor(carry);
    carry -= budget;
    if (perSecond === 0) carry = 0;
    const ts = new Date().toISOString();
    let skipped = 0;
    while (budget > 0 && skipped < clients.length) {
      const k = next;
      next = (next + 1) % clients.length;
      const client = clients[k]!;
      // Backpressure: a connection with writes still pending is skipped, so "max" measures what flows.
      if (inflight[k]! >= 20) {
        skipped++;
        continue;
      }
      skipped = 0;
      const floor = 1 + (seq[k]! % 20);
      const payload = `{"ts":"${ts}","seq":${seq[k]!++},"floor":${floor},"dir":"up","door":"closed","moving":true,"inDoorZone":false,"passengers":true,"mode":"normal","speed":1.6,"load":40}`;
      inflight[k]!++;
      client.publish(statusTopics[k]!, payload, { qos: 0 }, () => inflight[k]!--);
      count++;
      budget--;
      if ((count & 1023) === 0 && performance.now() - now > 8) break; // keep the event loop responsive
    }
    // What could not be sent is not owed later: a rate target, not a backlog.
    carry = Math.min(carry + budget, perSecond / 20);
  }, 5);
}

process.on("message", (m: WorkerCommand) => {
  const run = async () => {
    switch (m.cmd) {
      case "publisher":
        await startPublisher(m);
        return send({ type: "ready" });
      case "report":
        return send({ type: "report", count, at: Date.now() });
      case "stop":
        if (timer) clearInterval(timer);
        await Promise.all(clients.map((c) => c.endAsync(true).catch(() => undefined)));
        process.exit(0);
    }
  };
  run().catch((error) => send({ type: "error", message: String(error) }));
});
