import { loadConfig } from "../../server/platform/config.ts";
import { createLogger } from "../../server/platform/logger.ts";
import { startPlatform, type Platform } from "../../server/app.ts";
import { createTestDatabase, type TestDatabase } from "./database.ts";
import { login } from "./clients.ts";

export interface TestPlatform extends Platform {
  baseUrl: string;
  database: TestDatabase;
  /** fetch on this server signed in as a demo user, the dispatcher by default (JSON content type by default). */
  fetch(path: string, init?: RequestInit, as?: string): Promise<Response>;
  close(): Promise<void>;
}

/**
 * The real server on free ports against a fresh database, the embedded broker (or TEST_MQTT_URL's
 * broker) and Redis when TEST_REDIS_URL is set.
 */
export async function startTestPlatform(
  env: Record<string, string> = {},
  options: { embeddedBroker?: boolean; database?: TestDatabase } = {},
): Promise<TestPlatform> {
  // A given database outlives this server (restart tests); a database made here is dropped with it.
  const owned = !options.database;
  const database = options.database ?? (await createTestDatabase());
  const config = loadConfig({
    PORT: "0",
    HOST: "127.0.0.1",
    MQTT_PORT: "0",
    DATABASE_URL: database.url,
    DEMO_DATA: "0",
    SIMULATOR_DEVICES: "0",
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? "silent",
    MAP_TILES: "none",
    STATUS_FLUSH_MS: "200",
    ...(process.env.TEST_MQTT_URL && !options.embeddedBroker ? { MQTT_URL: process.env.TEST_MQTT_URL } : {}),
    ...(process.env.TEST_REDIS_URL ? { REDIS_URL: process.env.TEST_REDIS_URL } : {}),
    ...env,
  });
  const log = createLogger(config.logLevel);
  let platform: Platform;
  try {
    platform = await startPlatform(config, log);
  } catch (error) {
    if (owned) await database.drop();
    throw error;
  }
  const baseUrl = `http://127.0.0.1:${platform.httpPort}`;
  const cookies = new Map<string, Promise<string>>();
  return {
    ...platform,
    baseUrl,
    async fetch(path: string, init: RequestInit = {}, as = "dispatcher") {
      if (!cookies.has(as)) cookies.set(as, login(baseUrl, as));
      const cookie = cookies.get(as)!;
      const headers = new Headers(init.headers);
      if (!headers.has("content-type")) headers.set("content-type", "application/json");
      headers.set("cookie", await cookie);
      return fetch(`${baseUrl}${path}`, { ...init, headers });
    },
    database,
    async close() {
      await platform.stop();
      if (owned) await database.drop();
    },
  };
}
