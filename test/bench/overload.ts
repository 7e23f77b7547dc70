/**
 * `npm run bench:overload [-- --quick]` (also the last part of `npm run bench`): the platform past its
 * capacity. The real server (startPlatform: embedded broker, a temporary PGlite unless BENCH_DATABASE_URL
 * names a database) takes status from thousands of device connections (raw-socket publishers in child
 * processes, one TCP connection and login per device, each device within its per-device limit), while
 * other devices raise `trapped` one after another every 300-500 ms and a signed-in dispatcher's Socket.io
 * client in another process records when each incident reaches the screen.
 *  1. capacity: offered status rises step by step; capacity = the highest ingested rate seen.
 *  2. 1x, 2x, 4x capacity offered for 60 s each (10 s with --quick): every 5 s the ingested rate, memory,
 *     queue, shed and health; per step alarm -> ack and alarm -> screen p50/p99 and alarms lost (not on
 *     the screen within 10 s).
 *  3. recovery: the load drops to a quarter of capacity; how long until health is `ok` and the queue
 *     empty, and the alarm latency then.
 * Writes bench-results/overload[-quick].json.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { loadConfig } from "../../server/platform/config.ts";
import { createLogger } from "../../server/platform/logger.ts";
import { startPlatform } from "../../server/app.ts";
import { demoDeviceId } from "../../server/devices/secrets.ts";
import { login } from "../support/clients.ts";
import type { OverloadCommand, OverloadReply, AlarmRecord } from "./overload-workers.ts";
import { ForkedWorker, pct, round, startProfile } from "./forked.ts";

const { values: args } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    name: { type: "string" },
    devices: { type: "string" },
    publishers: { type: "string", default: "2" },
    "step-s": { type: "string" },
  },
});
const quick = args.quick!;
const NAME = args.name ?? (quick ? "overload-quick" : "overload");
const STATUS_DEVICES = Number(args.devices ?? (quick ? 1500 : 2400));
const PUBLISHERS = Number(args.publishers);
const STEP_S = Number(args["step-s"] ?? (quick ? 10 : 60));
const SAMPLE_S = 5;
const RAMP_STEP_S = quick ? 2 : 3;
const RECOVERY_S = quick ? 6 : 10;
/** Per-device limit for the bench: every device stays within it even at 4x (see the JSON's setup). */
const DEVICE_RATE = 200;
const ALARM_DEVICES = Math.ceil(((3 * STEP_S + RECOVERY_S + 10) / 0.3) * 1.05);
const LOST_AFTER_MS = 10_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const mb = (bytes: number) => Math.round(bytes / 1048576);

class Child extends ForkedWorker<OverloadCommand, OverloadReply> {
  constructor() {
    super("overload-workers.ts", { label: "overload worker", killAfterMs: 3000 });
  }
  async report() {
    const r = await this.request({ cmd: "report" });
    if (r.type !== "report") throw new Error("worker did not report");
    return r;
  }
}

async function main() {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "bench-overload-"));
  const databaseUrl = process.env.BENCH_DATABASE_URL ?? `pglite:${tmp}`;
  const needed = STATUS_DEVICES + ALARM_DEVICES;
  const config = loadConfig({
    PORT: "0",
    HOST: "127.0.0.1",
    MQTT_PORT: "0",
    DATABASE_URL: databaseUrl,
    DEMO_DATA: "1",
    // About 85 % of demo elevators carry a device.
    DEMO_ELEVATORS: String(Math.max(3000, Math.ceil(needed / 0.8))),
    SIMULATOR_DEVICES: "0",
    SIMULATOR_CREWS: "0",
    LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? "warn",
    MAP_TILES: "none",
    DEVICE_STATUS_RATE: String(DEVICE_RATE),
    DEVICE_STATUS_BURST: String(DEVICE_RATE * 2),
    // Edge settings to try other values with (the defaults otherwise).
    ...Object.fromEntries(
      ["STATUS_QUEUE_MAX", "STATUS_TURN_BUDGET", "STATUS_SLICE_MS", "STATUS_FLUSH_MS"].filter((k) => process.env[k]).map((k) => [k, process.env[k]!]),
    ),
  });
  const started = Date.now();
  const platform = await startPlatform(config, createLogger(config.logLevel));
  console.log(`[overload] server up in ${((Date.now() - started) / 1000).toFixed(1)} s (${config.database.kind}), ${platform.registry.size()} devices`);
  if (!platform.broker) throw new Error("the overload bench measures the embedded broker");
  if (platform.registry.size() < needed) throw new Error(`need ${needed} demo devices, have ${platform.registry.size()}`);
  const httpUrl = `http://127.0.0.1:${platform.httpPort}`;

  const publishers = Array.from({ length: PUBLISHERS }, () => new Child());
  const per = Math.floor(STATUS_DEVICES / PUBLISHERS);
  await Promise.all(publishers.map((p, i) => p.request({ cmd: "devices", url: platform.mqttUrl, first: i * per, count: per })));
  const alarmIds = Array.from({ length: ALARM_DEVICES }, (_, k) => demoDeviceId(STATUS_DEVICES + k));
  const elevatorOf: Record<string, number> = {};
  for (const id of alarmIds) elevatorOf[id] = platform.registry.get(id)!.elevatorId!;
  const alarms = new Child();
  const ready = await alarms.request({ cmd: "alarms", mqttUrl: platform.mqttUrl, httpUrl, cookie: await login(httpUrl, "dispatcher"), deviceIds: alarmIds, elevatorOf });
  console.log(
    `[overload] ${per * PUBLISHERS} status devices on ${PUBLISHERS} raw publishers (one connection each, limit ${DEVICE_RATE}/s per device), ` +
      `${ready.type === "ready" ? ready.connected : 0} alarm devices`,
  );
  const setRate = (total: number) => publishers.forEach((p) => p.send({ cmd: "rate", perSecond: total / PUBLISHERS }));

  const snapshot = async () => {
    const reports = await Promise.all(publishers.map((p) => p.report()));
    const mem = process.memoryUsage();
    return {
      at: performance.now(),
      offered: reports.reduce((a, r) => a + r.offered, 0),
      sent: reports.reduce((a, r) => a + r.sent, 0),
      ingested: platform.ingest.counters.status_received,
      shed: { ...platform.ingest.lane.shed },
      rss: mem.rss,
      heap: mem.heapUsed,
    };
  };
  type Snap = Awaited<ReturnType<typeof snapshot>>;
  const rate = (a: Snap, b: Snap, key: "offered" | "sent" | "ingested") => (b[key] - a[key]) / ((b.at - a.at) / 1000);
  const health = async () => {
    try {
      const res = await fetch(`${httpUrl}/api/health`, { signal: AbortSignal.timeout(3000) });
      return (await res.json()) as { status: string; degradedReasons: string[]; devices: { queueDepth: number; heldConnections: number; shedPerS: number; oldestUnackedAlarmS: number | null } };
    } catch {
      return null;
    }
  };

  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();

  // Warm-up: every device comes online (one presence write each) and the code paths get compiled.
  setRate(2 * STATUS_DEVICES);
  await sleep(quick ? 4000 : 8000);

  // 1. capacity
  let capacity = 0;
  let offer = 8_000;
  let below = 0;
  const ramp: { offeredPerS: number; sentPerS: number; ingestedPerS: number }[] = [];
  for (;;) {
    setRate(offer);
    await sleep(1000);
    const a = await snapshot();
    await sleep(RAMP_STEP_S * 1000);
    const b = await snapshot();
    const step = { offeredPerS: Math.round(rate(a, b, "offered")), sentPerS: Math.round(rate(a, b, "sent")), ingestedPerS: Math.round(rate(a, b, "ingested")) };
    ramp.push(step);
    capacity = Math.max(capacity, step.ingestedPerS);
    console.log(`[overload] ramp: offered ${step.offeredPerS}/s, sent ${step.sentPerS}/s, ingested ${step.ingestedPerS}/s`);
    // Two steps in a row well below what was offered: past capacity.
    below = step.ingestedPerS < 0.8 * step.offeredPerS ? below + 1 : 0;
    if (below >= 2 || offer > 400_000) break;
    offer = Math.round(offer * 1.4);
  }
  capacity = Math.round(capacity);
  console.log(`[overload] capacity: ${capacity} status/s ingested`);
  setRate(0);
  await sleep(3000);

  // 2. 1x, 2x, 4x
  const steps: Record<string, unknown>[] = [];
  const samplesAll: Record<string, unknown>[] = [];
  const runStep = async (label: string, factor: number, seconds: number) => {
    alarms.send({ cmd: "alarms-run", step: label });
    setRate(capacity * factor);
    const samples: { t: number; loopP99Ms: number; offeredPerS: number; sentPerS: number; ingestedPerS: number; rssMb: number; heapMb: number; queue: number; held: number; shedPerS: number; health: string }[] = [];
    const t0 = performance.now();
    let prev = await snapshot();
    const first = prev;
    loopDelay.reset();
    while (performance.now() - t0 < seconds * 1000 - 100) {
      await sleep(SAMPLE_S * 1000);
      const cur = await snapshot();
      const h = await health();
      const shedDelta = Object.values(cur.shed).reduce((a, b) => a + b, 0) - Object.values(prev.shed).reduce((a, b) => a + b, 0);
      const sample = {
        t: round((performance.now() - t0) / 1000, 0),
        // How late the server's event loop ran timers over these 5 s: how long an alarm's next step can wait.
        loopP99Ms: round(loopDelay.percentile(99) / 1e6, 0),
        offeredPerS: Math.round(rate(prev, cur, "offered")),
        sentPerS: Math.round(rate(prev, cur, "sent")),
        ingestedPerS: Math.round(rate(prev, cur, "ingested")),
        rssMb: mb(cur.rss),
        heapMb: mb(cur.heap),
        queue: platform.ingest.lane.size,
        held: platform.broker!.heldConnections(),
        shedPerS: Math.round(shedDelta / ((cur.at - prev.at) / 1000)),
        health: h ? `${h.status}${h.degradedReasons.length ? ` (${h.degradedReasons.join(", ")})` : ""}` : "no answer in 3 s",
      };
      loopDelay.reset();
      samples.push(sample);
      samplesAll.push({ step: label, ...sample });
      console.log(
        `[overload] ${label} t=${sample.t}s offered ${sample.offeredPerS}/s sent ${sample.sentPerS}/s ingested ${sample.ingestedPerS}/s ` +
          `(${round((100 * sample.ingestedPerS) / capacity, 0)} % of capacity) rss ${sample.rssMb} MB heap ${sample.heapMb} MB loop p99 ${sample.loopP99Ms} ms queue ${sample.queue} held ${sample.held} shed ${sample.shedPerS}/s health ${sample.health}`,
      );
      prev = cur;
    }
    const last = prev;
    return { samples, first, last };
  };

  const alarmStats = (records: AlarmRecord[], label: string) => {
    const mine = records.filter((r) => r.step === label);
    const screen = mine.filter((r) => r.screenAt !== null && r.screenAt - r.sentAt <= LOST_AFTER_MS).map((r) => r.screenAt! - r.sentAt).sort((a, b) => a - b);
    const ack = mine.filter((r) => r.ackAt !== null).map((r) => r.ackAt! - r.sentAt).sort((a, b) => a - b);
    return {
      raised: mine.length,
      onScreen: screen.length,
      lost: mine.length - screen.length,
      screenP50Ms: round(pct(screen, 50)),
      screenP99Ms: round(pct(screen, 99)),
      screenMaxMs: round(screen.at(-1) ?? NaN),
      acked: ack.length,
      ackP50Ms: round(pct(ack, 50)),
      ackP99Ms: round(pct(ack, 99)),
    };
  };

  const stepRuns: { label: string; factor: number; run: Awaited<ReturnType<typeof runStep>> }[] = [];
  for (const factor of [1, 2, 4]) {
    const label = `${factor}x`;
    // OVERLOAD_PROFILE=1x:file.cpuprofile: a CPU profile of the server process during that step.
    const [profileStep, profileFile] = (process.env.OVERLOAD_PROFILE ?? "").split(":");
    const stopProfile = profileStep === label ? await startProfile() : null;
    stepRuns.push({ label, factor, run: await runStep(label, factor, STEP_S) });
    if (stopProfile) await stopProfile(profileFile!);
  }

  // 3. recovery: load drops to a quarter of capacity.
  const dropAt = performance.now();
  alarms.send({ cmd: "alarms-run", step: "recovery" });
  setRate(capacity / 4);
  let recoveredS: number | null = null;
  const recoverySamples: { t: number; status: string; queue: number; held: number }[] = [];
  while (performance.now() - dropAt < RECOVERY_S * 1000) {
    const h = await health();
    const t = (performance.now() - dropAt) / 1000;
    recoverySamples.push({ t: round(t, 2), status: h?.status ?? "no answer", queue: platform.ingest.lane.size, held: platform.broker.heldConnections() });
    if (recoveredS === null && h?.status === "ok" && platform.ingest.lane.size < 1000) recoveredS = round(t, 2);
    await sleep(250);
  }
  alarms.send({ cmd: "alarms-run", step: null });
  setRate(0);
  await sleep(LOST_AFTER_MS + 1000);
  const records = (await alarms.report()).alarms;

  console.log(`[overload] capacity ${capacity} status/s; per step (alarm -> screen measured in another process):`);
  for (const { label, factor, run } of stepRuns) {
    const ingested = run.samples.map((s) => s.ingestedPerS);
    const stats = alarmStats(records, label);
    const step = {
      step: label,
      offeredTargetPerS: Math.round(capacity * factor),
      offeredPerS: Math.round(rate(run.first, run.last, "offered")),
      sentPerS: Math.round(rate(run.first, run.last, "sent")),
      ingestedPerS: Math.round(rate(run.first, run.last, "ingested")),
      ingestedMinPer5sPerS: Math.min(...ingested),
      ingestedMinPctOfCapacity: round((100 * Math.min(...ingested)) / capacity, 1),
      shed: Object.fromEntries(Object.entries(run.last.shed).map(([k, v]) => [k, v - run.first.shed[k as keyof typeof run.first.shed]])),
      rssMbMax: Math.max(...run.samples.map((s) => s.rssMb)),
      heapMbMax: Math.max(...run.samples.map((s) => s.heapMb)),
      alarms: stats,
    };
    steps.push(step);
    console.log(
      `[overload]  ${label}: offered ${step.offeredPerS}/s, ingested ${step.ingestedPerS}/s (min per 5 s ${step.ingestedMinPer5sPerS}/s = ${step.ingestedMinPctOfCapacity} % of capacity), ` +
        `rss max ${step.rssMbMax} MB; alarms ${stats.raised}: on screen p50 ${stats.screenP50Ms} ms p99 ${stats.screenP99Ms} ms, ack p50 ${stats.ackP50Ms} ms p99 ${stats.ackP99Ms} ms, lost ${stats.lost}`,
    );
  }
  const recovery = { seconds: RECOVERY_S, healthOkAfterS: recoveredS, samples: recoverySamples, alarms: alarmStats(records, "recovery") };
  console.log(
    `[overload]  recovery: health ok ${recoveredS === null ? "not within " + RECOVERY_S + " s" : `after ${recoveredS} s`}; ` +
      `alarms ${recovery.alarms.raised}: on screen p50 ${recovery.alarms.screenP50Ms} ms p99 ${recovery.alarms.screenP99Ms} ms, lost ${recovery.alarms.lost}`,
  );

  const result = {
    name: NAME,
    at: new Date().toISOString(),
    machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, node: process.version },
    setup: {
      broker: "embedded Aedes (in the server process), status and alarms taken at publish time",
      database: config.database.kind,
      statusDevices: per * PUBLISHERS,
      statusConnections: "one TCP connection and MQTT login per device (raw-socket publishers, QoS 0)",
      publisherProcesses: PUBLISHERS,
      perDeviceLimitPerS: DEVICE_RATE,
      perDeviceLimitNote: "raised from the default 5/s so that a few thousand connections can offer 4x capacity while each stays within its limit",
      statusQueueMax: config.edge.statusQueueMax,
      alarmDevices: ALARM_DEVICES,
      alarmEveryMs: "300-500",
      lostMeans: `not on the dispatcher's screen within ${LOST_AFTER_MS / 1000} s`,
      stepS: STEP_S,
      quick,
    },
    capacityPerS: capacity,
    ramp,
    steps,
    recovery,
    samples: samplesAll,
    serverCounters: { ...platform.ingest.counters },
    shedTotal: { ...platform.ingest.lane.shed },
  };
  fs.mkdirSync("bench-results", { recursive: true });
  const file = path.join("bench-results", `${NAME}.json`);
  fs.writeFileSync(file, JSON.stringify(result, null, 2) + "\n");
  console.log(`[overload] wrote ${file}`);

  alarms.stop();
  publishers.forEach((p) => p.stop());
  await sleep(500);
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
