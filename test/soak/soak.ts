/**
 * The soak: devices that repeat every alarm until it is acknowledged (EN 81-28) publish QoS 1 alarms
 * while the broker is killed and restarted, the server is SIGKILLed and restarted, and PostgreSQL is
 * stopped and started again. Afterwards every alarm must be in the database exactly once (counted by
 * device + alarmId in SQL). Everything runs on services of its own: a Mosquitto child process on a free
 * port and a throwaway PostgreSQL cluster, never the machine's shared ones.
 */
import fs from "node:fs";
import pg from "pg";
import { startChildServer, type ChildServer } from "../support/child-server.ts";
import { startOwnMosquitto, startOwnPostgres, type OwnBroker, type OwnPostgres } from "../support/own-services.ts";
import { PrismaClient } from "../../server/platform/db/generated/client.ts";
import { openDatabase } from "../../server/platform/db/adapter.ts";
import { applyMigrations } from "../../server/platform/db/migrate.ts";
import { loadDemoData } from "../../server/seed/load.ts";
import { generateTianjinDemo } from "../../server/seed/tianjin.ts";
import { SimulatedDevice } from "../../devices/device.ts";
import { demoDeviceId, demoDeviceSecret } from "../../server/devices/secrets.ts";

export interface SoakOptions {
  alarms: number;
  devices: number;
  /** How long PostgreSQL stays stopped. */
  dbOutageMs: number;
  /** How long the broker stays down. */
  brokerOutageMs: number;
  /** Longest wait for the last acknowledgement after the last fault. */
  drainTimeoutMs: number;
  log?: (line: string) => void;
}

export interface SoakFault {
  fault: "broker restart" | "server SIGKILL + restart" | "PostgreSQL restart";
  /** From the fault's end (service back) until the first alarm raised after it is acknowledged. */
  recoverS: number;
}

export interface SoakResult {
  alarmsSent: number;
  alarmPublishes: number;
  devices: number;
  storedRows: number;
  distinctStored: number;
  duplicates: number;
  missing: number;
  faults: SoakFault[];
  maxServerRssMb: number;
  durationS: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function seed(url: string, devices: number) {
  const db = openDatabase({ kind: "postgres", url }, { poolSize: 2 });
  await applyMigrations(db.raw);
  const prisma = new PrismaClient({ adapter: db.factory });
  await loadDemoData(prisma, generateTianjinDemo({ seed: 96333, elevators: devices }));
  await prisma.$disconnect();
  await db.raw.close().catch(() => {});
}

/** Peak resident memory of a process so far (VmHWM), in MB; 0 when it cannot be read. */
function peakRssMb(pid: number | undefined): number {
  if (!pid) return 0;
  try {
    const match = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
    return match ? Math.round(Number(match[1]) / 1024) : 0;
  } catch {
    return 0;
  }
}

export async function runSoak(options: SoakOptions): Promise<SoakResult> {
  const log = options.log ?? ((line: string) => console.log(`[soak] ${line}`));
  const started = Date.now();
  let broker: OwnBroker | null = null;
  let postgres: OwnPostgres | null = null;
  let server: ChildServer | null = null;
  const devices: SimulatedDevice[] = [];
  let maxRss = 0;
  const rssTimer = setInterval(() => (maxRss = Math.max(maxRss, peakRssMb(server?.process.pid))), 500);
  try {
    log(`starting own PostgreSQL and Mosquitto`);
    [postgres, broker] = await Promise.all([startOwnPostgres(), startOwnMosquitto()]);
    const url = await postgres.createDatabase("lift96333_soak");
    await seed(url, options.devices);
    const env = {
      MQTT_URL: broker.url,
      // Offline detection and status history are not what is measured here.
      DEVICE_OFFLINE_AFTER_S: "600",
      ALARM_ACK_LATE_MS: "600000",
    };
    server = await startChildServer({ env, database: { url, kind: "postgres", drop: async () => {} }, startTimeoutMs: 120_000 });
    log(`server up; connecting ${options.devices} devices`);

    for (let i = 0; i < options.devices; i++) {
      const deviceId = demoDeviceId(i);
      const device = new SimulatedDevice({
        brokerUrl: broker.url,
        deviceId,
        secret: demoDeviceSecret(deviceId),
        floors: 18,
        alarmRepeatMs: 3_000,
        statusIntervalIdleMs: 120_000,
        motion: { tripsPerHour: 0 },
        reconnectPeriodMs: 1_000 + (i % 1_000),
        connectTimeoutMs: 10_000,
        tickMs: 500,
      });
      device.on("error", () => {});
      devices.push(device);
    }
    for (let i = 0; i < devices.length; i += 100) await Promise.all(devices.slice(i, i + 100).map((d) => d.connect()));

    const perDevice = Math.ceil(options.alarms / options.devices);
    const sent: { device: SimulatedDevice; alarmId: string }[] = [];
    let acked = 0;
    // Each device raises its next alarm once the previous one is acknowledged, as a real one would.
    const senders = devices.map(async (device, index) => {
      for (let k = 0; k < perDevice && index * perDevice + k < options.alarms; k++) {
        const alarmId = device.raiseAlarm("ebike_in_car", { detail: `soak ${k}` });
        sent.push({ device, alarmId });
        await device.waitForAck(alarmId, options.drainTimeoutMs + 600_000);
        acked++;
      }
    });
    const allDone = Promise.all(senders);

    const faults: SoakFault[] = [];
    /** Time until an alarm raised right after a fault is acknowledged. */
    const recovery = async (fault: SoakFault["fault"], backAt: number) => {
      const probe = devices[devices.length - 1]!;
      const alarmId = probe.raiseAlarm("ebike_in_car", { detail: `probe after ${fault}` });
      sent.push({ device: probe, alarmId });
      await probe.waitForAck(alarmId, options.drainTimeoutMs);
      const recoverS = Math.round((Date.now() - backAt) / 100) / 10;
      faults.push({ fault, recoverS });
      log(`${fault}: alarms acknowledged again ${recoverS} s after it came back (${acked}/${options.alarms} acked)`);
    };
    const waitForShare = async (share: number) => {
      while (acked < options.alarms * share) await sleep(200);
    };

    await waitForShare(0.2);
    log(`killing the broker (${acked} acked)`);
    await broker.kill();
    await sleep(options.brokerOutageMs);
    await broker.start();
    await recovery("broker restart", Date.now());

    await waitForShare(0.45);
    log(`SIGKILL to the server (${acked} acked)`);
    await server.kill("SIGKILL");
    await server.restart(env);
    await recovery("server SIGKILL + restart", Date.now());

    await waitForShare(0.7);
    log(`stopping PostgreSQL for ${options.dbOutageMs / 1000} s (${acked} acked)`);
    await postgres.stop();
    await sleep(options.dbOutageMs);
    await postgres.start();
    await recovery("PostgreSQL restart", Date.now());

    await Promise.race([
      allDone,
      sleep(options.drainTimeoutMs).then(() => {
        throw new Error(`only ${acked} of ${options.alarms} alarms acknowledged within ${options.drainTimeoutMs} ms of the last fault`);
      }),
    ]);
    maxRss = Math.max(maxRss, peakRssMb(server.process.pid));
    log(`all ${sent.length} alarms acknowledged; counting in SQL`);

    const client = new pg.Client({ connectionString: url });
    await client.connect();
    let counts: { rows: number; distinct: number; matched: number };
    try {
      const ids = sent.map((s) => s.device.deviceId);
      const alarmIds = sent.map((s) => s.alarmId);
      const result = await client.query(
        `WITH sent AS (SELECT * FROM unnest($1::text[], $2::text[]) AS s("deviceId", "alarmId"))
         SELECT (SELECT count(*) FROM alarms a WHERE a."deviceId" = ANY($1::text[]))::int AS rows,
                (SELECT count(DISTINCT (a."deviceId", a."alarmId")) FROM alarms a WHERE a."deviceId" = ANY($1::text[]))::int AS distinct,
                (SELECT count(*) FROM sent s WHERE EXISTS (SELECT 1 FROM alarms a WHERE a."deviceId" = s."deviceId" AND a."alarmId" = s."alarmId"))::int AS matched`,
        [ids, alarmIds],
      );
      counts = result.rows[0] as typeof counts;
    } finally {
      await client.end();
    }
    return {
      alarmsSent: sent.length,
      alarmPublishes: devices.reduce((n, d) => n + d.counters.alarm, 0),
      devices: devices.length,
      storedRows: counts.rows,
      distinctStored: counts.distinct,
      duplicates: counts.rows - counts.distinct,
      missing: sent.length - counts.matched,
      faults,
      maxServerRssMb: maxRss,
      durationS: Math.round((Date.now() - started) / 1000),
    };
  } finally {
    clearInterval(rssTimer);
    await Promise.all(devices.map((d) => d.close().catch(() => {})));
    await server?.close().catch(() => {});
    await broker?.close().catch(() => {});
    await postgres?.close().catch(() => {});
  }
}
