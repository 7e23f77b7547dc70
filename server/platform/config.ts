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
  MQTT_SHARE_GROUP: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/).default("lift96333"),
  REDIS_URL: z.url({ protocol: /^rediss?$/ }).optional(),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  DEMO_DATA: flag.default(true),
  DEMO_ELEVATORS: z.coerce.number().int().min(0).max(500_000).default(3000),
  DEMO_DEVICE_KEY: z.string().min(8).default("tianjin-96333-demo"),
  SIMULATOR_DEVICES: z.coerce.number().int().min(0).max(20_000).default(100),
  MAP_TILES: z.enum(["osm", "tianditu", "amap", "none"]).default("osm"),
  TIANDITU_KEY: z.string().optional(),
  OFFER_TIMEOUT_S: z.coerce.number().int().min(10).max(3600).default(180),
  STATUS_FLUSH_MS: z.coerce.number().int().min(50).max(60_000).default(1000),
  CLIENT_DIR: z.string().default("dist/client"),
});

export interface Config {
  port: number;
  host: string;
  database: DatabaseTarget;
  mqtt:
    | { kind: "embedded"; port: number; url: string }
    | { kind: "external"; url: string; username?: string; password?: string; shareGroup: string };
  redisUrl: string | null;
  logLevel: z.infer<typeof envSchema>["LOG_LEVEL"];
  demo: { load: boolean; elevators: number; deviceKey: string; simulatorDevices: number };
  map: { tiles: "osm" | "tianditu" | "amap" | "none"; tiandituKey: string | null };
  offerTimeoutS: number;
  statusFlushMs: number;
  clientDir: string;
}

export class ConfigError extends Error {}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`);
    throw new ConfigError(`invalid configuration: ${problems.join("; ")}`);
  }
  const e = parsed.data;
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
      ? { kind: "external", url: e.MQTT_URL, username: e.MQTT_USERNAME, password: e.MQTT_PASSWORD, shareGroup: e.MQTT_SHARE_GROUP }
      : { kind: "embedded", port: e.MQTT_PORT, url: `mqtt://127.0.0.1:${e.MQTT_PORT}` },
    redisUrl: e.REDIS_URL ?? null,
    logLevel: e.LOG_LEVEL,
    demo: {
      load: e.DEMO_DATA,
      elevators: e.DEMO_ELEVATORS,
      deviceKey: e.DEMO_DEVICE_KEY,
      simulatorDevices: e.SIMULATOR_DEVICES,
    },
    map: { tiles: e.MAP_TILES, tiandituKey: e.TIANDITU_KEY ?? null },
    offerTimeoutS: e.OFFER_TIMEOUT_S,
    statusFlushMs: e.STATUS_FLUSH_MS,
    clientDir: e.CLIENT_DIR,
  };
}
