import { Registry, collectDefaultMetrics, Gauge } from "prom-client";
import type { Express } from "express";
import type { MqttClient } from "mqtt";
import type { ApiRouter } from "../platform/http.ts";

import type { Database } from "../platform/db/index.ts";
import type { Config } from "../platform/config.ts";
import type { Realtime } from "../platform/realtime.ts";
import type { DeviceIngest } from "../devices/ingest.ts";
import { healthView, type HealthView } from "../contracts/index.ts";

export interface HealthDeps {
  db: Database;
  config: Config;
  mqtt: () => MqttClient | null;
  realtime: () => Realtime | null;
  ingest: DeviceIngest;
  startedAt: number;
  version: string;
}

export async function checkHealth(deps: HealthDeps): Promise<HealthView> {
  let latencyMs: number | null = null;
  try {
    latencyMs = Math.round((await deps.db.ping()) * 100) / 100;
  } catch {
    latencyMs = null;
  }
  const brokerOk = deps.mqtt()?.connected ?? false;
  const realtime = deps.realtime();
  return {
    status: latencyMs !== null && brokerOk ? "ok" : "degraded",
    uptimeS: Math.round((Date.now() - deps.startedAt) / 1000),
    version: deps.version,
    database: { ok: latencyMs !== null, kind: deps.config.database.kind, latencyMs },
    broker: { ok: brokerOk, kind: deps.config.mqtt.kind, url: deps.config.mqtt.url.replace(/\/\/[^@]*@/, "//") },
    realtime: { clients: realtime?.io.engine.clientsCount ?? 0, adapter: realtime?.adapter ?? "memory" },
    ingest: { ...deps.ingest.counters },
  };
}

export function registerHealthRoutes(api: ApiRouter, app: Express, deps: HealthDeps): void {
  api.route({
    method: "get",
    path: "/api/health",
    summary: "Database, broker, realtime and ingest state",
    tags: ["health"],
    access: "public",
    response: healthView,
    handler: () => checkHealth(deps),
  });

  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const counter = new Gauge({
    name: "lift96333_ingest_messages",
    help: "MQTT ingest counters since start, by outcome",
    labelNames: ["outcome"],
    registers: [registry],
    collect() {
      for (const [outcome, value] of Object.entries(deps.ingest.counters)) this.set({ outcome }, value);
    },
  });
  void counter;
  app.get("/metrics", async (_req, res) => {
    res.type(registry.contentType).send(await registry.metrics());
  });
}
