/**
 * npm run sim -- --url mqtt://127.0.0.1:1883 (default: the server's MQTT_PORT on this machine) --devices 200 --scenario entrapment [--first 0] [--rate N]
 *                [--duration S] [--demo-key K]
 */
import { parseArgs } from "node:util";
import { envPort } from "./env-port.ts";
import { runFleet, scenarios, type FleetStats, type Scenario } from "./fleet.ts";

// Same variable as the server, so a platform started with MQTT_PORT=1884 is found with the same environment.
const DEFAULT_URL = `mqtt://127.0.0.1:${envPort("MQTT_PORT", 1883)}`;

const USAGE = `usage: npm run sim -- [options]
  --url URL          broker URL (default ${DEFAULT_URL}, from MQTT_PORT)
  --devices N        number of devices (default 50)
  --scenario NAME    ${scenarios.join(" | ")} (default normal)
  --first I          index of the first demo device (default 0 -> tj-000001)
  --rate N           new connections per second during the ramp (default 500)
  --duration S       stop after S seconds (default: until Ctrl-C)
  --demo-key K       key the demo device secrets derive from (default: the platform's demo key)
  --help             this text`;

function fail(msg: string): never {
  process.stderr.write(`${msg}\n${USAGE}\n`);
  process.exit(2);
}

function intOpt(name: string, v: string | undefined, min: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) fail(`--${name} must be an integer >= ${min}, got ${JSON.stringify(v)}`);
  return n;
}

function parse() {
  return parseArgs({
    options: {
      url: { type: "string", default: DEFAULT_URL },
      devices: { type: "string", default: "50" },
      scenario: { type: "string", default: "normal" },
      first: { type: "string" },
      rate: { type: "string" },
      duration: { type: "string" },
      "demo-key": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
    allowPositionals: false,
  }).values;
}

let values: ReturnType<typeof parse>;
try {
  values = parse();
} catch (err) {
  fail(err instanceof Error ? err.message : String(err));
}
if (values.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}
if (!(scenarios as readonly string[]).includes(values.scenario)) fail(`unknown scenario ${JSON.stringify(values.scenario)}`);
if (!/^(mqtts?|wss?|tcp|tls):\/\//.test(values.url)) fail(`--url must be an mqtt://, mqtts://, ws:// or wss:// URL`);
const count = intOpt("devices", values.devices, 1)!;
const durationS = intOpt("duration", values.duration, 1);

const log = {
  info: (obj: object, msg?: string) => process.stdout.write(`  ${msg ?? ""} ${JSON.stringify(obj)}\n`),
  warn: (obj: object, msg?: string) => process.stderr.write(`! ${msg ?? ""} ${JSON.stringify(obj)}\n`),
};

const fleet = runFleet({
  brokerUrl: values.url,
  count,
  scenario: values.scenario as Scenario,
  firstIndex: intOpt("first", values.first, 0),
  ratePerSecond: intOpt("rate", values.rate, 1),
  durationS,
  demoKey: values["demo-key"],
  log,
});

console.log(
  `sim: ${count} devices from index ${values.first ?? 0}, scenario ${values.scenario}, broker ${values.url}` +
    (durationS ? `, ${durationS} s` : ", Ctrl-C to stop"),
);

let prev = fleet.stats();
let prevCpu = process.cpuUsage();
let prevAt = performance.now();
const progress = setInterval(() => {
  const s = fleet.stats();
  const now = performance.now();
  const dtS = (now - prevAt) / 1000;
  const cpu = process.cpuUsage(prevCpu);
  const cpuPct = ((cpu.user + cpu.system) / 1000 / (now - prevAt)) * 100;
  console.log(
    `t=${s.elapsedS.toFixed(0).padStart(4)}s connected ${s.connected}/${s.devices}` +
      ` msgs/s ${((s.published.total - prev.published.total) / dtS).toFixed(0)}` +
      ` (status ${s.published.status}, alarm ${s.published.alarm})` +
      ` alarms ${s.alarmsRaised} acks ${s.acksReceived} unacked ${s.unackedAlarms}` +
      ` cpu ${cpuPct.toFixed(0)}% rss ${(process.memoryUsage.rss() / 2 ** 20).toFixed(0)}MiB`,
  );
  prev = s;
  prevCpu = process.cpuUsage();
  prevAt = now;
}, 1000);

const startCpu = process.cpuUsage();
function summary(s: FleetStats): void {
  const cpu = process.cpuUsage(startCpu);
  const cpuS = (cpu.user + cpu.system) / 1e6;
  console.log(
    [
      `summary: ${s.devices} devices, ${s.elapsedS.toFixed(1)} s, scenario ${values.scenario}`,
      `  published ${s.published.total} (status ${s.published.status}, alarm ${s.published.alarm}, conn ${s.published.conn}, raw ${s.published.raw})`,
      `  avg ${(s.published.total / Math.max(1, s.elapsedS)).toFixed(1)} msgs/s, cpu ${cpuS.toFixed(1)} s (${((cpuS / Math.max(0.001, s.elapsedS)) * 100).toFixed(0)}% of one core)`,
      `  alarms raised ${s.alarmsRaised} (repeats ${s.alarmRepeats}), acks ${s.acksReceived}, unacked ${s.unackedAlarms}, connect failures ${s.connectFailures}`,
    ].join("\n"),
  );
}

let interrupted = false;
process.on("SIGINT", () => {
  if (interrupted) process.exit(130);
  interrupted = true;
  console.log("stopping (Ctrl-C again to force)");
  void fleet.stop();
});
process.on("SIGTERM", () => void fleet.stop());

const final = await fleet.done;
clearInterval(progress);
summary(final);
// Alarms nobody acknowledged mean this was not a 96333 platform (another broker on the port?), not success.
if (final.alarmsRaised > 0 && final.acksReceived === 0) {
  console.error(`no alarm was acknowledged: is the 96333 platform's broker at ${values.url}? (set --url or MQTT_PORT)`);
  process.exit(1);
}
if (final.connectFailures > 0 && final.published.total === 0) {
  console.error(`no device could connect to ${values.url} (set --url or MQTT_PORT)`);
  process.exit(1);
}
process.exit(0);
