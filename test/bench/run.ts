/**
 * `npm run bench [-- --name NAME --quick]`: the IoT benchmark against the real server (startPlatform,
 * embedded Aedes broker, a temporary PGlite unless BENCH_DATABASE_URL names a database).
 *  (a) ingest: status messages/s the server ingests against what the publishers sent in the same window,
 *      publishers flat out (with socket backpressure) in child processes, one connection per device;
 *  (b) latency: alarm publish -> `incident:created` at a Socket.io client, p50/p99, while status
 *      messages flow at a target of 20,000/s (the JSON says what was actually achieved).
 * Writes bench-results/<name>.json and prints a summary.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import mqtt, { type MqttClient } from "mqtt";
import { io } from "socket.io-client";
import { loadConfig } from "../../server/platform/config.ts";
import { createLogger } from "../../server/platform/logger.ts";
import { startPlatform } from "../../server/app.ts";
import { demoDeviceId, demoDeviceSecret } from "../../server/devices/secrets.ts";
import { topics } from "../../server/devices/protocol.ts";
import type { IncidentView } from "../../server/contracts/index.ts";
import type { WorkerCommand, WorkerReply } from "./workers.ts";
import { ForkedWorker, pct, round, startProfile } from "./forked.ts";
import { login } from "../support/clients.ts";

const { values: args } = parseArgs({
  options: {
    name: { type: "string", default: "iot-ingest-latency" },
    quick: { type: "boolean", default: false },
    publishers: { type: "string", default: "1" },
    devices: { type: "string", default: "2000" },
    rate: { type: "string", default: "20000" },
    // Offered load of window (a): with 2 cores, publishers spinning flat out starve the server they measure.
    "ingest-rate": { type: "string", default: "40000" },
  },
});
const quick = args.quick!;
const PUBLISHERS = Number(args.publishers);
const STATUS_DEVICES = Number(args.devices);
const TARGET_RATE = Number(args.rate);
const ALARM_DEVICES = quick ? 20 : 80;
const WARMUP_MS = quick ? 1500 : 3000;
const INGEST_WINDOW_MS = quick ? 4000 : 10_000;
const LATENCY_WINDOW_MS = quick ? 5000 : 20_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

class Worker extends ForkedWorker<WorkerCommand, WorkerReply> {
  constructor() {
    super("workers.ts", { label: "bench worker", killAfterMs: 2000 });
  }
  async count(): Promise<number> {
    const r = await this.request({ cmd: "report" });
    return r.type === "report" ? r.count : NaN;
  }
}

async function main() {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "bench-pglite-"));
  const databaseUrl = process.env.BENCH_DATABASE_URL ?? `pglite:${tmp}`;
  const config = loadConfig({
    PORT: "0",
    HOST: "127.0.0.1",
    MQTT_PORT: "0",
    DATABASE_URL: databaseUrl,
    DEMO_DATA: "1",
    DEMO_ELEVATORS: "3000",
    SIMULATOR_DEVICES: "0",
    LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? "warn",
    MAP_TILES: "none",
    ...(process.env.STATUS_FLUSH_MS ? { STATUS_FLUSH_MS: process.env.STATUS_FLUSH_MS } : {}),
  });
  const started = Date.now();
  const platform = await startPlatform(config, createLogger(config.logLevel));
  console.log(`[bench] server up in ${((Date.now() - started) / 1000).toFixed(1)} s (${config.database.kind}), ${platform.registry.size()} devices`);
  if (!platform.broker) throw new Error("the bench measures the embedded broker");
  const url = platform.mqttUrl;
  const needed = STATUS_DEVICES + ALARM_DEVICES;
  if (platform.registry.size() < needed) throw new Error(`need ${needed} demo devices, have ${platform.registry.size()}`);

  const publishers = Array.from({ length: PUBLISHERS }, () => new Worker());
  const per = Math.floor(STATUS_DEVICES / PUBLISHERS);
  // One connection per device: the embedded broker takes device status at publish time from device
  // connections only, before its emitter, so no other subscriber (a no-op one included) sees it; the
  // same-run baseline is what the publishers sent.
  await Promise.all(publishers.map((p, i) => p.request({ cmd: "publisher", url, first: i * per, count: per })));
  console.log(`[bench] ${PUBLISHERS} publisher processes with ${per * PUBLISHERS} device connections ready`);

  const counts = async () => {
    const pub = (await Promise.all(publishers.map((p) => p.count()))).reduce((a, b) => a + b, 0);
    return { at: performance.now(), published: pub, server: platform.ingest.counters.status_received };
  };
  const rates = (a: Awaited<ReturnType<typeof counts>>, b: Awaited<ReturnType<typeof counts>>) => {
    const s = (b.at - a.at) / 1000;
    return { published: (b.published - a.published) / s, server: (b.server - a.server) / s };
  };
  const setRate = (total: number) => publishers.forEach((p) => p.send({ cmd: "rate", perSecond: total / PUBLISHERS }));

  // (a) flat out: what the server's ingest takes vs what a do-nothing subscriber takes from the same broker.
  setRate(Number(args["ingest-rate"]));
  await sleep(WARMUP_MS);
  const profiler = process.env.BENCH_PROFILE ? await startProfile() : null;
  const a0 = await counts();
  const loadA0 = os.loadavg()[0]!;
  await sleep(INGEST_WINDOW_MS);
  const a1 = await counts();
  const ingest = rates(a0, a1);
  if (profiler) await profiler(process.env.BENCH_PROFILE!);
  setRate(0);
  console.log(
    `[bench] (a) published ${Math.round(ingest.published)}/s, server ingest ${Math.round(ingest.server)}/s, ratio ${round(ingest.server / ingest.published, 3)}`,
  );
  await sleep(2000);

  // (b) alarm -> incident:created latency under a steady status load.
  // Incidents go to signed-in centre roles only: the socket signs in as the demo dispatcher.
  const cookie = await login(`http://127.0.0.1:${platform.httpPort}`, "dispatcher");
  const socket = io(`http://127.0.0.1:${platform.httpPort}`, { transports: ["websocket"], reconnection: false, extraHeaders: { cookie } });
  await new Promise<void>((resolve, reject) => (socket.once("connect", () => resolve()), socket.once("connect_error", reject)));
  const alarmIds = Array.from({ length: ALARM_DEVICES }, (_, k) => demoDeviceId(STATUS_DEVICES + k));
  const elevatorOf = new Map<number, string>();
  for (const id of alarmIds) {
    const e = platform.registry.get(id)?.elevatorId;
    if (e != null) elevatorOf.set(e, id);
  }
  const sentAt = new Map<string, number>();
  const latencies: number[] = [];
  socket.on("incident:created", (incident: IncidentView) => {
    const deviceId = elevatorOf.get(incident.elevator.id);
    const t = deviceId ? sentAt.get(deviceId) : undefined;
    if (t !== undefined) latencies.push(performance.now() - t);
  });
  const alarmClients: MqttClient[] = await Promise.all(
    alarmIds.map((id) =>
      mqtt.connectAsync(url, { clientId: id, username: id, password: demoDeviceSecret(id), protocolVersion: 4, reconnectPeriod: 0 }),
    ),
  );
  setRate(TARGET_RATE);
  await sleep(WARMUP_MS);
  const b0 = await counts();
  const loadB0 = os.loadavg()[0]!;
  const gap = LATENCY_WINDOW_MS / ALARM_DEVICES;
  for (let k = 0; k < alarmClients.length; k++) {
    const id = alarmIds[k]!;
    sentAt.set(id, performance.now());
    const payload = { ts: new Date().toISOString(), alarmId: `bench-${k}`, code: "trapped", state: "raised", floor: 5, passengers: true, inDoorZone: false };
    alarmClients[k]!.publish(topics.alarm(id), JSON.stringify(payload), { qos: 1 });
    await sleep(gap);
  }
  const b1 = await counts();
  const load = rates(b0, b1);
  setRate(0);
  await sleep(2000);
  const sorted = [...latencies].sort((x, y) => x - y);
  console.log(
    `[bench] (b) status load: published ${Math.round(load.published)}/s (target ${TARGET_RATE}), server ingest ${Math.round(load.server)}/s; ` +
      `alarm -> incident:created p50 ${round(pct(sorted, 50))} ms, p99 ${round(pct(sorted, 99))} ms (${sorted.length}/${ALARM_DEVICES})`,
  );

  const result = {
    name: args.name,
    at: new Date().toISOString(),
    machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, node: process.version, loadAvg1mAtStart: round(loadA0, 2) },
    setup: {
      broker: "embedded Aedes (in the server process)",
      database: config.database.kind,
      statusDevices: per * PUBLISHERS,
      publisherProcesses: PUBLISHERS,
      publisherConnections: "one per device (device credentials)",
      payloadBytes: 190,
      qos: { status: 0, alarm: 1 },
      quick,
    },
    ingest: {
      windowS: INGEST_WINDOW_MS / 1000,
      publishedPerS: Math.round(ingest.published),
      serverIngestPerS: Math.round(ingest.server),
      ratioIngestedToPublished: round(ingest.server / ingest.published, 3),
      offeredPerS: Number(args["ingest-rate"]),
      note: "publishers at the offered rate with socket backpressure, one connection per device; the ratio is ingested over sent in the same window (the overload bench measures capacity and shedding)",
    },
    latency: {
      windowS: LATENCY_WINDOW_MS / 1000,
      statusTargetPerS: TARGET_RATE,
      statusPublishedPerS: Math.round(load.published),
      statusServerIngestPerS: Math.round(load.server),
      targetReached: load.server >= TARGET_RATE * 0.95,
      loadAvg1mAtStart: round(loadB0, 2),
      alarms: ALARM_DEVICES,
      incidentsSeen: sorted.length,
      p50Ms: round(pct(sorted, 50)),
      p90Ms: round(pct(sorted, 90)),
      p99Ms: round(pct(sorted, 99)),
      maxMs: round(sorted.at(-1) ?? NaN),
      note:
        load.server >= TARGET_RATE * 0.95
          ? "status target sustained"
          : `this machine sustained ${Math.round(load.server)} status msg/s of the ${TARGET_RATE} asked (2 cores shared by server, broker, publishers and other work)`,
    },
    serverCounters: { ...platform.ingest.counters },
  };
  fs.mkdirSync("bench-results", { recursive: true });
  const file = path.join("bench-results", `${args.name}.json`);
  fs.writeFileSync(file, JSON.stringify(result, null, 2) + "\n");
  console.log(`[bench] wrote ${file}`);

  socket.close();
  await Promise.all(alarmClients.map((c) => c.endAsync(true)));
  publishers.forEach((p) => p.stop());
  await platform.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
