/**
 * `npm start`: the whole platform in one process on embedded defaults (PGlite, in-process broker, Tianjin
 * demo data, a simulated fleet), or on real servers when DATABASE_URL / MQTT_URL / REDIS_URL are set.
 */
import { loadConfig } from "./platform/config.ts";
import { createLogger } from "./platform/logger.ts";
import { startPlatform, type Platform } from "./app.ts";
import { runFleet, type FleetHandle } from "../devices/fleet.ts";
import { runDemoCrews } from "../devices/crews.ts";
import { DEMO_CREW_PREFIX, DEMO_PASSWORD } from "./seed/tianjin.ts";

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    console.error(`启动失败 / cannot start: ${(error as Error).message}`);
    process.exit(2);
  }
  const log = createLogger(config.logLevel);
  // The Socket.io Redis adapter stores recovery sessions with a command whose failure it never handles:
  // with Redis gone, a disconnecting socket would end the process. Redis is optional for a running
  // centre (this process's clients still get every push), so that one failure is logged; any other
  // unhandled rejection still ends the process, as Node does by default.
  process.on("unhandledRejection", (reason) => {
    if (reason instanceof Error && reason.constructor.name === "MaxRetriesPerRequestError") {
      log.warn({ err: reason.message }, "redis command failed while Redis is unavailable");
      return;
    }
    log.fatal({ err: reason }, "unhandled rejection");
    process.exit(1);
  });
  let platform: Platform;
  try {
    platform = await startPlatform(config, log);
  } catch (error) {
    // One clear sentence; the stack only at debug level.
    log.debug({ err: error }, "start failed");
    console.error(`启动失败 / cannot start: ${(error as Error).message}`);
    process.exit(1);
  }

  let fleet: FleetHandle | null = null;
  if (config.demo.load && config.demo.simulatorDevices > 0 && platform.registry.size() > 0) {
    fleet = runFleet({
      brokerUrl: platform.mqttUrl,
      count: Math.min(config.demo.simulatorDevices, platform.registry.size()),
      scenario: "normal",
      demoKey: config.demo.deviceKey,
      log: log.child({ part: "simulator" }),
    });
  }

  // The demo crews are outside clients: they sign in with the seed's crew accounts over the loopback and use
  // the public REST API like a rescuer's phone.
  const crewAccounts =
    config.demo.load && config.demo.simulatorCrews
      ? await platform.db.prisma.user.findMany({
          where: { role: "rescuer", disabled: false, username: { startsWith: DEMO_CREW_PREFIX } },
          select: { username: true },
          orderBy: { id: "asc" },
        })
      : [];
  if (config.demo.load && config.demo.simulatorCrews && crewAccounts.length === 0) {
    log.warn("no demo crew accounts (crew-<team id>) in this database: it was seeded before they existed; demo teams wait for a dispatcher");
  }
  const loopback = ["0.0.0.0", "::", ""].includes(config.host) ? "127.0.0.1" : config.host.includes(":") ? `[${config.host}]` : config.host;
  // The crews sign in over plain loopback HTTP; with TLS_CERT the server speaks HTTPS only, so they stay off.
  if (crewAccounts.length > 0 && platform.scheme === "https") log.warn("demo crews are off under TLS_CERT: dispatch offers wait for a person");
  const crews =
    crewAccounts.length > 0 && platform.scheme === "http"
      ? runDemoCrews(
          { baseUrl: `http://${loopback}:${platform.httpPort}`, usernames: crewAccounts.map((u) => u.username), password: DEMO_PASSWORD },
          log.child({ part: "crews" }),
        )
      : null;

  const url = `${platform.scheme}://localhost:${platform.httpPort}`;
  const moved = [
    config.portsMayMove.http && config.port !== platform.httpPort ? `HTTP port ${config.port} was taken: using ${platform.httpPort} (set PORT to choose)` : "",
    config.mqtt.kind === "embedded" && config.portsMayMove.mqtt && platform.broker?.port != null && platform.broker.port !== config.mqtt.port
      ? `MQTT port ${config.mqtt.port} was taken: using ${platform.broker.port} (set MQTT_PORT to choose)`
      : "",
    config.mqtt.kind === "embedded" && config.portsMayMove.mqttTls && platform.broker?.tlsPort != null && platform.broker.tlsPort !== config.mqtt.tlsPort
      ? `MQTT over TLS port ${config.mqtt.tlsPort} was taken: using ${platform.broker.tlsPort} (set MQTT_TLS_PORT to choose)`
      : "",
  ].filter(Boolean);
  // A real rescue code of a simulated (online) elevator, so the suggested demo call shows live status.
  const demoLift = config.demo.load
    ? await platform.db.prisma.elevator.findFirst({ where: { device: { id: "tj-000001" } }, select: { rescueCode: true } })
    : null;
  console.log(
    [
      "",
      ...moved.map((line) => `! ${line}`),
      `96333 电梯应急处置平台 is running: ${url}`,
      `  API docs   ${url}/api/docs     health ${url}/api/health`,
      `  MQTT       ${platform.mqttUrl} (${config.mqtt.kind})${platform.mqttTlsUrl && platform.mqttTlsUrl !== platform.mqttUrl ? `, TLS ${platform.mqttTlsUrl}` : ""}`,
      `  database   ${config.database.kind === "postgres" ? "PostgreSQL" : `PGlite ${config.database.dataDir ?? "(memory)"}`}`,
      fleet ? `  simulator  ${fleet.devices.length} demo devices (normal day); try: npm run sim -- --url ${platform.mqttUrl} --devices 1 --first 2000 --scenario entrapment` : "",
      demoLift
        ? `  phone call try: npm run call -- --url ${url} --code ${demoLift.rescueCode}   (96333 rings on the console)`
        : "",
      crews
        ? `  crews      ${crews.crews} demo rescue teams (accounts crew-<team id>) accept offers after 15-40 s and drive to the site (SIMULATOR_CREWS=0: all by hand)`
        : "",
      config.demo.load
        ? `  demo accounts (password ${DEMO_PASSWORD}): dispatcher, supervisor, admin, company1, rescuer1`
        : "",
      "",
    ]
      .filter((line) => line !== "")
      .join("\n"),
  );

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, "stopping");
    // Whatever state the broker, database or Redis are in, the process is gone before a service manager's
    // SIGKILL (systemd's default is 90 s, ours in docs/deployment.md 15 s); each stop step is bounded too.
    setTimeout(() => {
      log.error("stop took longer than 9 s: exiting with parts still open");
      process.exit(1);
    }, 9_000).unref();
    await fleet?.stop().catch(() => {});
    await crews?.stop();
    await platform.stop();
    process.exit(0);
  };
  process.on("SIGINT", () => void shutdown("SIGINT"));
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
}

void main();
