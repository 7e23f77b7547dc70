import fs from "node:fs";
import { z } from "zod";
import { parseDatabaseUrl, type DatabaseTarget } from "./db/target.ts";

const port = z.coerce.number().int().min(0).max(65535);
const flag = z
  .enum(["1", "0", "true", "false", "yes", "no", "on", "off", ""])
  .transform((value) => ["1", "true", "yes", "on"].includes(value));

/** Every setting the server reads from the environment, validated once at start. */
export const envSchema = z.object({
  PORT: port.default(3000),
  HOST: z.string().default("0.0.0.0"),
  DATABASE_URL: z.string().optional(),
  MQTT_URL: z.url({ protocol: /^mqtts?$/ }).optional(),
  MQTT_PORT: port.default(1883),
  MQTT_USERNAME: z.string().optional(),
  MQTT_PASSWORD: z.string().optional(),
  // A stable client id lets an external broker keep the platform's session (subscriptions, queued alarms) across reconnects and restarts; one per server process.
  MQTT_CLIENT_ID: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/).optional(),
  MQTT_SHARE_GROUP: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/).default("lift96333"),
  REDIS_URL: z.url({ protocol: /^rediss?$/ }).optional(),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  NODE_ENV: z.string().optional(),
  // Unset: demo data only into the embedded database outside production; set, it decides.
  DEMO_DATA: flag.optional(),
  DEMO_ELEVATORS: z.coerce.number().int().min(0).max(500_000).default(3000),
  DEMO_DEVICE_KEY: z.string().min(8).default("tianjin-96333-demo"),
  SIMULATOR_DEVICES: z.coerce.number().int().min(0).max(20_000).default(100),
  SIMULATOR_CREWS: flag.default(true),
  MAP_TILES: z.enum(["osm", "tianditu", "amap", "none"]).default("osm"),
  TIANDITU_KEY: z.string().optional(),
  // Minimum 1 s so restart tests can run in seconds; production keeps the default of 3 minutes.
  OFFER_TIMEOUT_S: z.coerce.number().int().min(1).max(3600).default(180),
  // Dispatch engine and SLA.
  DISPATCH_TIERS: z
    .string()
    .regex(/^[123](,[123]){0,2}$/, "comma-separated tiers, e.g. 1,2,3")
    .default("1,2,3")
    .transform((v) => [...new Set(v.split(",").map(Number) as (1 | 2 | 3)[])].sort()),
  DISPATCH_ALL_TIERS: flag.default(false),
  DISPATCH_SAME_SITE_MAX: z.coerce.number().int().min(1).max(50).default(3),
  POSITION_STALE_S: z.coerce.number().int().min(10).max(86_400).default(300),
  ARRIVAL_RADIUS_M: z.coerce.number().int().min(10).max(10_000).default(300),
  SLA_WARNING_LEAD_S: z.coerce.number().int().min(0).max(7200).default(600),
  SLA_TICK_MS: z.coerce.number().int().min(20).max(60_000).default(1000),
  // A follow-up (deadline check, next offer) failing this many times in a row is escalated to the centre; it keeps being retried.
  OUTBOX_ESCALATE_AFTER: z.coerce.number().int().min(1).max(1000).default(5),
  // --- end dispatch engine and SLA ---
  STATUS_FLUSH_MS: z.coerce.number().int().min(50).max(60_000).default(1000),
  CLIENT_DIR: z.string().default("dist/client"),
  // Call intake and incident grouping.
  TELEPHONY_SECRET: z.string().min(16, "TELEPHONY_SECRET needs at least 16 characters").optional(),
  INCIDENT_MERGE_WINDOW_MIN: z.coerce.number().int().min(0).max(24 * 60).default(30),
  MASS_EVENT_WINDOW_MIN: z.coerce.number().int().min(1).max(240).default(10),
  MASS_EVENT_SITE_MIN: z.coerce.number().int().min(2).max(1000).default(3),
  MASS_EVENT_DISTRICT_MIN: z.coerce.number().int().min(2).max(10_000).default(10),
  // Elevator IoT.
  DEVICE_OFFLINE_AFTER_S: z.coerce.number().int().min(5).max(86_400).default(60),
  LIVE_FANOUT_MS: z.coerce.number().int().min(50).max(10_000).default(500),
  ALARM_FLAP_CYCLES: z.coerce.number().int().min(2).max(100).default(3),
  ALARM_FLAP_WINDOW_S: z.coerce.number().int().min(10).max(86_400).default(300),
  // Limits at the device edge (docs/protocol.md, "Rates and limits").
  DEVICE_STATUS_RATE: z.coerce.number().min(1).max(10_000).default(5),
  DEVICE_STATUS_BURST: z.coerce.number().int().min(1).max(100_000).default(20),
  STATUS_QUEUE_MAX: z.coerce.number().int().min(2).max(10_000_000).default(20_000),
  STATUS_TURN_BUDGET: z.coerce.number().int().min(10).max(10_000_000).default(5_000),
  STATUS_SLICE_MS: z.coerce.number().min(1).max(1_000).default(20),
  ALARM_ACK_LATE_MS: z.coerce.number().int().min(50).max(600_000).default(1_000),
  // Supervision analytics.
  DEMO_HISTORY_MONTHS: z.coerce.number().int().min(0).max(36).default(12),
  CHROMIUM_PATH: z.string().optional(),
  // TLS, reverse proxy and cookies (docs/deployment.md).
  TRUST_PROXY: z
    .string()
    .regex(/^[\w.:/, -]*$/, "a hop count (1), true, false, or addresses/subnets (loopback, 10.0.0.0/8)")
    .default(""),
  COOKIE_SECURE: z.enum(["auto", "1", "0", "true", "false", "yes", "no", "on", "off"]).default("auto"),
  TLS_CERT: z.string().optional(),
  TLS_KEY: z.string().optional(),
  MQTT_TLS_PORT: port.default(8883),
  MQTT_TLS_ONLY: flag.default(false),
  MQTT_CA: z.string().optional(),
  // Accounts and access.
  LOGIN_FAILURES_PER_IP: z.coerce.number().int().min(1).max(100_000).default(20),
  ADMIN_USERNAME: z.string().trim().regex(/^[a-z0-9_.-]{3,64}$/, "3-64 of a-z 0-9 _ . -").default("admin"),
  ADMIN_PASSWORD: z.string().min(10, "ADMIN_PASSWORD needs at least 10 characters").max(256).optional(),
  METRICS_TOKEN: z.string().min(16, "METRICS_TOKEN needs at least 16 characters").optional(),
  METRICS_PORT: port.optional(),
  METRICS_HOST: z.string().default("127.0.0.1"),
  // What waits for the database during an outage (alarms are never dropped: beyond the bound they are not acknowledged).
  ALARM_PENDING_PER_DEVICE: z.coerce.number().int().min(1).max(10_000).default(20),
  ALARM_PENDING_MAX: z.coerce.number().int().min(1).max(1_000_000).default(20_000),
  SAMPLE_BACKLOG_MAX: z.coerce.number().int().min(0).max(10_000_000).default(100_000),
  PRESENCE_BACKLOG_MAX: z.coerce.number().int().min(100).max(10_000_000).default(50_000),
});

export interface Config {
  port: number;
  host: string;
  database: DatabaseTarget;
  mqtt:
    | { kind: "embedded"; port: number; url: string; tlsPort: number | null; tlsOnly: boolean }
    | { kind: "external"; url: string; username?: string; password?: string; shareGroup: string; caFile: string | null; clientId: string | null };
  /** Certificate and key files: HTTPS for the API and console, MQTT over TLS on the embedded broker. */
  tls: { certFile: string; keyFile: string } | null;
  /** Express's `trust proxy`: whose X-Forwarded-* headers give the scheme, host and client address. */
  trustProxy: boolean | number | string;
  /** `auto`: Secure when the request came over HTTPS (directly or per a trusted proxy). */
  cookieSecure: "auto" | boolean;
  /**
   * Ports the user did not choose (PORT / MQTT_PORT / MQTT_TLS_PORT unset): when the default is taken the
   * server takes the next free one instead of refusing to start.
   */
  portsMayMove: { http: boolean; mqtt: boolean; mqttTls: boolean };
  redisUrl: string | null;
  /** NODE_ENV=production: demo secrets refuse the start. */
  production: boolean;
  logLevel: z.infer<typeof envSchema>["LOG_LEVEL"];
  demo: { load: boolean; elevators: number; deviceKey: string; simulatorDevices: number; simulatorCrews: boolean; historyMonths: number };
  /** Headless Chromium for the bulletin's PDF; null when none is installed (the PDF answers 501). */
  chromiumPath: string | null;
  map: { tiles: "osm" | "tianditu" | "amap" | "none"; tiandituKey: string | null };
  offerTimeoutS: number;
  dispatch: {
    tiers: (1 | 2 | 3)[];
    allTiersAtOnce: boolean;
    sameSiteMax: number;
    positionStaleS: number;
    arrivalRadiusM: number;
  };
  sla: { warningLeadS: number; tickMs: number };
  /** Failed attempts of one follow-up before it is escalated to the centre (and again after as many more). */
  outboxEscalateAfter: number;
  statusFlushMs: number;
  clientDir: string;
  telephonySecret: string | null;
  incidents: { mergeWindowMin: number; massWindowMin: number; massSiteMin: number; massDistrictMin: number };
  /** Heartbeat timeout, live fan-out period, flapping policy. */
  iot: { offlineAfterS: number; liveFanoutMs: number; flapCycles: number; flapWindowS: number };
  /** Per-device status limit, status backlog bound, status read per event-loop turn, alarm lateness. */
  edge: { statusRatePerS: number; statusBurst: number; statusQueueMax: number; turnBudget: number; sliceMs: number; alarmLateMs: number; alarmPendingPerDevice: number; alarmPendingMax: number; sampleBacklogMax: number; presenceBacklogMax: number };
  /** Failed sign-ins per client address per minute; the first admin from the environment (once). */
  auth: { loginFailuresPerIp: number; firstAdmin: { username: string; password: string } | null };
  /** /metrics: a bearer token on the main port, and/or a listener of its own (an internal port). */
  metrics: { token: string | null; port: number | null; host: string };
}

export class ConfigError extends Error {}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`);
    throw new ConfigError(`invalid configuration: ${problems.join("; ")}`);
  }
  const e = parsed.data;
  if (Boolean(e.TLS_CERT) !== Boolean(e.TLS_KEY)) throw new ConfigError("TLS_CERT and TLS_KEY go together: set both or neither");
  if (e.MQTT_TLS_ONLY && !e.TLS_CERT && !e.MQTT_URL) throw new ConfigError("MQTT_TLS_ONLY needs TLS_CERT and TLS_KEY");
  const unset = (name: string) => env[name] === undefined || env[name] === "";
  const production = e.NODE_ENV === "production";
  let database: DatabaseTarget;
  try {
    database = parseDatabaseUrl(e.DATABASE_URL || undefined);
  } catch (error) {
    throw new ConfigError((error as Error).message);
  }
  return {
    port: e.PORT,
    host: e.HOST,
    database,
    mqtt: e.MQTT_URL
      ? { kind: "external", url: e.MQTT_URL, username: e.MQTT_USERNAME, password: e.MQTT_PASSWORD, shareGroup: e.MQTT_SHARE_GROUP, caFile: e.MQTT_CA ?? null, clientId: e.MQTT_CLIENT_ID ?? null }
      : {
          kind: "embedded",
          port: e.MQTT_PORT,
          url: e.MQTT_TLS_ONLY ? `mqtts://127.0.0.1:${e.MQTT_TLS_PORT}` : `mqtt://127.0.0.1:${e.MQTT_PORT}`,
          tlsPort: e.TLS_CERT ? e.MQTT_TLS_PORT : null,
          tlsOnly: e.MQTT_TLS_ONLY,
        },
    tls: e.TLS_CERT && e.TLS_KEY ? { certFile: e.TLS_CERT, keyFile: e.TLS_KEY } : null,
    trustProxy: parseTrustProxy(e.TRUST_PROXY),
    cookieSecure: e.COOKIE_SECURE === "auto" ? "auto" : ["1", "true", "yes", "on"].includes(e.COOKIE_SECURE),
    portsMayMove: { http: unset("PORT"), mqtt: unset("MQTT_PORT"), mqttTls: unset("MQTT_TLS_PORT") },
    redisUrl: e.REDIS_URL ?? null,
    production,
    logLevel: e.LOG_LEVEL,
    demo: {
      // The demo accounts share a published password: only the throwaway embedded database gets them
      // unasked; a PostgreSQL server or a production start needs DEMO_DATA=1.
      load: e.DEMO_DATA ?? (database.kind === "pglite" && !production),
      elevators: e.DEMO_ELEVATORS,
      deviceKey: e.DEMO_DEVICE_KEY,
      simulatorDevices: e.SIMULATOR_DEVICES,
      simulatorCrews: e.SIMULATOR_CREWS,
      historyMonths: e.DEMO_HISTORY_MONTHS,
    },
    chromiumPath: e.CHROMIUM_PATH ?? findChromium(),
    map: { tiles: e.MAP_TILES, tiandituKey: e.TIANDITU_KEY ?? null },
    offerTimeoutS: e.OFFER_TIMEOUT_S,
    dispatch: {
      tiers: e.DISPATCH_TIERS,
      allTiersAtOnce: e.DISPATCH_ALL_TIERS,
      sameSiteMax: e.DISPATCH_SAME_SITE_MAX,
      positionStaleS: e.POSITION_STALE_S,
      arrivalRadiusM: e.ARRIVAL_RADIUS_M,
    },
    sla: { warningLeadS: e.SLA_WARNING_LEAD_S, tickMs: e.SLA_TICK_MS },
    outboxEscalateAfter: e.OUTBOX_ESCALATE_AFTER,
    statusFlushMs: e.STATUS_FLUSH_MS,
    clientDir: e.CLIENT_DIR,
    telephonySecret: e.TELEPHONY_SECRET ?? null,
    incidents: {
      mergeWindowMin: e.INCIDENT_MERGE_WINDOW_MIN,
      massWindowMin: e.MASS_EVENT_WINDOW_MIN,
      massSiteMin: e.MASS_EVENT_SITE_MIN,
      massDistrictMin: e.MASS_EVENT_DISTRICT_MIN,
    },
    iot: {
      offlineAfterS: e.DEVICE_OFFLINE_AFTER_S,
      liveFanoutMs: e.LIVE_FANOUT_MS,
      flapCycles: e.ALARM_FLAP_CYCLES,
      flapWindowS: e.ALARM_FLAP_WINDOW_S,
    },
    edge: {
      statusRatePerS: e.DEVICE_STATUS_RATE,
      statusBurst: e.DEVICE_STATUS_BURST,
      statusQueueMax: e.STATUS_QUEUE_MAX,
      turnBudget: e.STATUS_TURN_BUDGET,
      sliceMs: e.STATUS_SLICE_MS,
      alarmLateMs: e.ALARM_ACK_LATE_MS,
      alarmPendingPerDevice: e.ALARM_PENDING_PER_DEVICE,
      alarmPendingMax: e.ALARM_PENDING_MAX,
      sampleBacklogMax: e.SAMPLE_BACKLOG_MAX,
      presenceBacklogMax: e.PRESENCE_BACKLOG_MAX,
    },
    auth: {
      loginFailuresPerIp: e.LOGIN_FAILURES_PER_IP,
      firstAdmin: e.ADMIN_PASSWORD ? { username: e.ADMIN_USERNAME, password: e.ADMIN_PASSWORD } : null,
    },
    metrics: { token: e.METRICS_TOKEN ?? null, port: e.METRICS_PORT ?? null, host: e.METRICS_HOST },
  };
}

/** The first Chromium of the usual Debian / Ubuntu / Chrome install paths, if any. */
function findChromium(): string | null {
  return ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"].find((p) => fs.existsSync(p)) ?? null;
}

/** `true`/`yes`/`on`: the one proxy in front; a number: that many hops; otherwise addresses or subnets. */
function parseTrustProxy(value: string): boolean | number | string {
  const v = value.trim().toLowerCase();
  if (["", "0", "false", "no", "off"].includes(v)) return false;
  if (["true", "yes", "on"].includes(v)) return 1;
  if (/^\d+$/.test(v)) return Number(v);
  return value.trim();
}
