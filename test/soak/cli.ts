/**
 * `npm run soak`: 100,000 alarms from 2,000 devices through a broker restart, a server SIGKILL and a
 * PostgreSQL restart (30 s), on services of its own. Options: --alarms N --devices N --db-outage-s N.
 * Prints the figures as JSON and exits 1 when an alarm is missing or stored twice.
 */
import { runSoak } from "./soak.ts";

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};

const result = await runSoak({
  alarms: arg("alarms", 100_000),
  devices: arg("devices", 2_000),
  dbOutageMs: arg("db-outage-s", 30) * 1000,
  brokerOutageMs: arg("broker-outage-s", 5) * 1000,
  drainTimeoutMs: arg("drain-timeout-s", 1800) * 1000,
});
console.log(JSON.stringify(result, null, 2));
process.exit(result.duplicates === 0 && result.missing === 0 ? 0 : 1);
