import { Registry, collectDefaultMetrics, Gauge } from "prom-client";
import type { RequestHandler } from "express";
import type { BrokerLink } from "../platform/mqtt.ts";
import type { ApiRouter } from "../platform/http.ts";

import type { Database } from "../platform/db/index.ts";
import type { Config } from "../platform/config.ts";
import type { Realtime } from "../platform/realtime.ts";
import type { DeviceIngest } from "../devices/ingest.ts";
import type { OutboxRepository } from "../platform/outbox/repository.ts";
import type { OutboxRelay } from "../platform/outbox/relay.ts";
import { healthView, type HealthView } from "../contracts/index.ts";

export interface HealthDeps {
  db: Database;
  config: Config;
  brokerLinks: () => readonly BrokerLink[];
  realtime: () => Realtime | null;
  ingest: DeviceIngest;
  outbox: { repository: OutboxRepository; relay: OutboxRelay; clock: () => Date };
  startedAt: number;
  version: string;
}

/** A follow-up waiting longer than this makes the platform `degraded`. */
const OUTBOX_STALE_S = 30;

export async function checkHealth(deps: HealthDeps): Promise<HealthView> {
  let latencyMs: number | null = null;
  try {
    latencyMs = Math.round((await deps.db.ping()) * 100) / 100;
  } catch {
    latencyMs = null;
  }
  const links = deps.brokerLinks().map((link) => link.status());
  const brokerOk = links.length > 0 && links.every((link) => link.state === "connected");
  const backlog = await deps.outbox.repository.backlog(deps.outbox.clock()).catch(() => null);
  // Follow-ups that keep failing, or wait longer than a few polls, mean offers or pushes are late.
  const outboxOk = backlog !== null && backlog.failing === 0 && (backlog.oldestAgeS ?? 0) < OUTBOX_STALE_S;
  const realtime = deps.realtime();
  const { degradedReasons: edgeReasons, ...devices } = deps.ingest.edgeView();
  const degradedReasons = [
    ...(latencyMs === null ? ["database unreachable"] : []),
    ...(brokerOk ? [] : ["broker unreachable"]),
    ...(outboxOk ? [] : ["follow-ups late or failing"]),
    ...edgeReasons,
  ];
  return {
    status: degradedReasons.length === 0 ? "ok" : "degraded",
    uptimeS: Math.round((Date.now() - deps.startedAt) / 1000),
    version: deps.version,
    database: { ok: latencyMs !== null, kind: deps.config.database.kind, latencyMs },
    broker: { ok: brokerOk, kind: deps.config.mqtt.kind, url: deps.config.mqtt.url.replace(/\/\/[^@]*@/, "//"), links },
    realtime: { clients: realtime?.io.engine.clientsCount ?? 0, adapter: realtime?.adapter ?? "memory" },
    ingest: { ...deps.ingest.counters },
    outbox: { pending: backlog?.pending ?? 0, oldestAgeS: backlog?.oldestAgeS ?? null, failing: backlog?.failing ?? 0, ...deps.outbox.relay.counters },
    devices,
    degradedReasons,
  };
}

/** Registers /api/health and returns the /metrics handler, which the composition root mounts behind its guard. */
export function registerHealthRoutes(api: ApiRouter, deps: HealthDeps): RequestHandler {
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
  const outbox = new Gauge({
    name: "lift96333_outbox",
    help: "Follow-ups of committed changes: delivered and failed attempts since start (this process), rows pending (all processes)",
    labelNames: ["state"],
    registers: [registry],
    async collect() {
      for (const [state, value] of Object.entries(deps.outbox.relay.counters)) this.set({ state }, value);
      const backlog = await deps.outbox.repository.backlog(deps.outbox.clock()).catch(() => null);
      if (backlog) {
        this.set({ state: "pending" }, backlog.pending);
        this.set({ state: "failing" }, backlog.failing);
        this.set({ state: "oldest_age_s" }, backlog.oldestAgeS ?? 0);
      }
    },
  });
  void outbox;
  // The device edge: the same figures as /api/health, and alarm -> ack / alarm -> push histograms.
  const edgeGauge = new Gauge({
    name: "lift96333_device_edge",
    help: "Device edge: status queue depth and bound, held connections, shed per second, ingested per second, unacknowledged alarms, age of the oldest (s)",
    labelNames: ["figure"],
    registers: [registry],
    collect() {
      const view = deps.ingest.edgeView();
      this.set({ figure: "queue_depth" }, view.queueDepth);
      this.set({ figure: "queue_max" }, view.queueMax);
      this.set({ figure: "oldest_queued_ms" }, view.oldestQueuedMs);
      this.set({ figure: "held_connections" }, view.heldConnections);
      this.set({ figure: "shed_per_s" }, view.shedPerS);
      this.set({ figure: "ingested_per_s" }, view.ingestedPerS);
      this.set({ figure: "unacked_alarms" }, view.unackedAlarms);
      this.set({ figure: "oldest_unacked_alarm_s" }, view.oldestUnackedAlarmS ?? 0);
      this.set({ figure: "pending_alarm_stores" }, view.pendingAlarmStores);
      this.set({ figure: "sample_backlog" }, view.writeBacklog.samples);
      this.set({ figure: "presence_backlog" }, view.writeBacklog.presence);
      this.set({ figure: "degraded" }, view.degradedReasons.length > 0 ? 1 : 0);
    },
  });
  void edgeGauge;
  const shed = new Gauge({
    name: "lift96333_status_shed",
    help: "Status messages dropped at the edge since start, by reason",
    labelNames: ["reason"],
    registers: [registry],
    collect() {
      for (const [reason, value] of Object.entries(deps.ingest.lane.shed)) this.set({ reason }, value);
    },
  });
  void shed;
  const brokerLink = new Gauge({
    name: "lift96333_broker_link",
    help: "The platform's broker connections: up (1/0), reconnections since start, failed attempts since last up, seconds in the current state",
    labelNames: ["link", "figure"],
    registers: [registry],
    collect() {
      const now = Date.now();
      for (const link of deps.brokerLinks().map((l) => l.status())) {
        this.set({ link: link.name, figure: "up" }, link.state === "connected" ? 1 : 0);
        this.set({ link: link.name, figure: "reconnects" }, link.reconnects);
        this.set({ link: link.name, figure: "failed_attempts" }, link.failedAttempts);
        this.set({ link: link.name, figure: "state_age_s" }, Math.round((now - Date.parse(link.since)) / 1000));
      }
    },
  });
  void brokerLink;
  registry.registerMetric(deps.ingest.timing.ack);
  registry.registerMetric(deps.ingest.timing.push);
  return async (_req, res) => {
    res.type(registry.contentType).send(await registry.metrics());
  };
}
