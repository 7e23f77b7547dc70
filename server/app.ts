import http from "node:http";
import fs from "node:fs";
import path from "node:path";
import express from "express";
import helmet from "helmet";
import swaggerUi from "swagger-ui-express";
import type { MqttClient } from "mqtt";
import type { Config } from "./platform/config.ts";
import type { Logger } from "./platform/logger.ts";
import { connectDatabase, type Database } from "./platform/db/index.ts";
import { startEmbeddedBroker, type EmbeddedBroker } from "./platform/broker.ts";
import { connectPlatformClient } from "./platform/mqtt.ts";
import { startRealtime, type Realtime } from "./platform/realtime.ts";
import { ApiRouter, errorHandler } from "./platform/http.ts";
import { createRepositories } from "./platform/repositories.ts";
import { OutboxRepository } from "./platform/outbox/repository.ts";
import { CommittedQueue, OutboxRelay } from "./platform/outbox/relay.ts";
import { UnitOfWork } from "./platform/outbox/unit-of-work.ts";
import type { OutboxHandlers } from "./platform/outbox/topics.ts";
import { DeviceRegistry } from "./devices/registry.ts";
import { DeviceIngest } from "./devices/ingest.ts";
import { registerDeviceRoutes } from "./devices/routes.ts";
import { startLiveFanout } from "./devices/live.ts";
import { registerAlarmRoutes } from "./alarms/routes.ts";
import { createDispatch, type Dispatch } from "./dispatch/index.ts";
import { registerDispatchRoutes } from "./dispatch/routes.ts";
import { SlaScheduler } from "./sla/scheduler.ts";
import type { IncidentPolicy } from "./incidents/repository/writes.ts";
import { registerIncidentRoutes } from "./incidents/routes.ts";
import { incidentPushes } from "./incidents/fanout.ts";
import { loadMassEvent, timelineSince } from "./incidents/repository/timeline.ts";
import { MassEventGrouping } from "./incidents/mass-events.ts";
import { createMassEventStore } from "./incidents/repository/mass-events.ts";
import { CallService } from "./calls/service.ts";
import { CallRepository } from "./calls/repository.ts";
import { ElevatorLookup } from "./elevators/lookup.ts";
import { registerCallRoutes, telephonyAuth, TELEPHONY_PATH } from "./calls/routes.ts";
import { demoTelephonySecret } from "./calls/signature.ts";
import { callPushes } from "./calls/fanout.ts";
import { registerElevatorLookupRoutes } from "./elevators/routes.ts";
import { registerMapRoutes } from "./map/routes.ts";
import { registerHealthRoutes } from "./health/routes.ts";
import { ensureDemoData } from "./seed/load.ts";
import { Sessions } from "./auth/sessions.ts";
import { registerAuthRoutes } from "./auth/routes.ts";
import { appendAudit } from "./audit/log.ts";
import { createFieldRepository } from "./field/repository.ts";
import { defaultFieldOptions, FieldService } from "./field/service.ts";
import { PHOTO_BODY_LIMIT, PHOTO_UPLOAD_PATH, registerFieldRoutes } from "./field/routes.ts";
import { registerAuditRoutes } from "./audit/routes.ts";

export const VERSION = "0.1.0";

export class PortInUseError extends Error {}

export interface Platform {
  config: Config;
  db: Database;
  /** The one transaction boundary for state changes and their follow-ups. */
  uow: UnitOfWork;
  relay: OutboxRelay;
  registry: DeviceRegistry;
  ingest: DeviceIngest;
  dispatch: Dispatch;
  sla: SlaScheduler;
  broker: EmbeddedBroker | null;
  mqtt: MqttClient;
  realtime: Realtime;
  /** The HTTP address actually bound (PORT=0 picks a free one). */
  httpPort: number;
  /** The MQTT URL devices use. */
  mqttUrl: string;
  stop(): Promise<void>;
}

/** How long a process's claim on an outbox row holds before another process may deliver it. */
const OUTBOX_LEASE_MS = 3_000;

/**
 * Starts every capability in dependency order, each built from constructor arguments: the database
 * (migrated, demo data when empty), the unit of work and its outbox, devices, dispatch, broker and
 * ingest, HTTP + Socket.io with every route, then the relay that delivers follow-ups and the SLA
 * scheduler. If a part fails, the parts already started are stopped again, in reverse order.
 */
export async function startPlatform(config: Config, log: Logger, options: { clock?: () => Date } = {}): Promise<Platform> {
  const clock = options.clock ?? (() => new Date());
  const startedAt = Date.now();
  const stack: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const stop of stack.reverse()) await stop().catch((error) => log.warn({ err: error }, "stop step failed"));
    stack.length = 0;
  };
  try {
    // Database and the unit of work.
    const db = await connectDatabase(config.database);
    stack.push(() => db.close());
    if (db.migrationsApplied.length) log.info({ migrations: db.migrationsApplied }, "database migrated");
    if (config.demo.load) {
      const summary = await ensureDemoData(db.prisma, { elevators: config.demo.elevators, raw: db.raw });
      if (summary.loaded) log.info(summary, "Tianjin demo data loaded");
    }
    const repos = createRepositories(db);
    const outbox = new OutboxRepository(db.prisma);
    const committed = new CommittedQueue();
    const uow = new UnitOfWork(db.prisma, outbox, committed, { leaseMs: OUTBOX_LEASE_MS, clock });
    const incidentPolicy: IncidentPolicy = {
      mergeWindowMs: config.incidents.mergeWindowMin * 60_000,
      massWindowMs: config.incidents.massWindowMin * 60_000,
      massSiteMin: config.incidents.massSiteMin,
      massDistrictMin: config.incidents.massDistrictMin,
    };

    // Devices and dispatch: in-memory state rebuilt from the database.
    const registry = new DeviceRegistry(repos.devices);
    const dispatch = createDispatch(db.prisma, uow, log.child({ part: "dispatch" }), {
      policy: { order: config.dispatch.tiers, allTiersAtOnce: config.dispatch.allTiersAtOnce, sameSiteMax: config.dispatch.sameSiteMax },
      offerTimeoutS: config.offerTimeoutS,
      positionStaleS: config.dispatch.positionStaleS,
      arrivalRadiusM: config.dispatch.arrivalRadiusM,
      slaWarningLeadS: config.sla.warningLeadS,
      clock,
    });
    await Promise.all([registry.load(), dispatch.teams.load()]);

    // Broker and ingest.
    let broker: EmbeddedBroker | null = null;
    let mqtt: MqttClient;
    let alarmMqtt: MqttClient | null = null;
    const clientId = `platform-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
    if (config.mqtt.kind === "embedded") {
      broker = await startEmbeddedBroker({ port: config.mqtt.port, devices: registry, log: log.child({ part: "broker" }) });
      stack.push(() => broker!.close());
      mqtt = await connectPlatformClient(`mqtt://127.0.0.1:${broker.port}`, { clientId, ...broker.platformCredentials });
      stack.push(() => mqtt.endAsync(true));
    } else {
      mqtt = await connectPlatformClient(config.mqtt.url, { clientId, username: config.mqtt.username, password: config.mqtt.password });
      stack.push(() => mqtt.endAsync(true));
      // Alarms and their acks on a connection of their own: never behind status on the status socket.
      alarmMqtt = await connectPlatformClient(config.mqtt.url, { clientId: `${clientId}-alarms`, username: config.mqtt.username, password: config.mqtt.password });
      stack.push(() => alarmMqtt!.endAsync(true));
    }
    const ingest = new DeviceIngest({
      prisma: db.prisma,
      registry,
      uow,
      mergeWindowMs: incidentPolicy.mergeWindowMs,
      log: log.child({ part: "ingest" }),
      statusFlushMs: config.statusFlushMs,
      flap: { cycles: config.iot.flapCycles, windowMs: config.iot.flapWindowS * 1000 },
      offlineAfterMs: config.iot.offlineAfterS * 1000,
      raw: db.raw,
      limits: config.edge,
    });
    await ingest.loadPresence();
    await ingest.attach({
      client: mqtt,
      broker,
      alarmClient: alarmMqtt ?? undefined,
      shareGroup: config.mqtt.kind === "external" ? config.mqtt.shareGroup : null,
    });
    stack.push(() => ingest.stop());

    // HTTP, Socket.io and every route.
    const app = express();
    const server = http.createServer(app);
    const sessions = new Sessions(repos.auth.sessions);
    const realtime = await startRealtime(server, { redisUrl: config.redisUrl, log, sessions });
    stack.push(() => realtime.close());
    const audit = (entry: Parameters<typeof appendAudit>[1]) => appendAudit(repos.audit, entry);
    const api = new ApiRouter(audit);
    registerAuthRoutes(api, { users: repos.auth.users, sessions, audit });
    registerAuditRoutes(api, { audit: repos.audit });
    registerIncidentRoutes(api, db.prisma, { reads: repos.incidents, access: repos.auth.access, uow, clock });
    const calls = new CallService(new CallRepository(db.prisma), uow, new ElevatorLookup(repos.elevators), repos.incidents, clock, incidentPolicy);
    registerCallRoutes(api, { calls });
    // Lookup before any /api/elevators/{id} route.
    registerElevatorLookupRoutes(api, { elevators: repos.elevators });
    registerAlarmRoutes(api, { alarms: repos.alarms });
    registerDeviceRoutes(api, { devices: repos.devices, registry, ingest, endSession: (id) => void broker?.disconnect(id) });
    const stopLiveFanout = startLiveFanout(ingest, realtime.io, config.iot.liveFanoutMs);
    stack.push(async () => stopLiveFanout());
    registerMapRoutes(api, { map: repos.map, elevators: repos.elevators, config, dispatch });
    registerDispatchRoutes(api, { prisma: db.prisma, access: repos.auth.access, dispatch });
    const fieldRepository = createFieldRepository(db.prisma);
    registerFieldRoutes(api, {
      field: new FieldService(fieldRepository, dispatch, repos.incidents, uow, { ...defaultFieldOptions, clock }),
      repository: fieldRepository,
      teams: dispatch.teams,
      access: repos.auth.access,
      arrivalRadiusM: config.dispatch.arrivalRadiusM,
      offerTimeoutS: config.offerTimeoutS,
    });

    // Follow-ups of committed changes: what each outbox topic causes, in order.
    // alarm -> push is measured where incident:created leaves for the consoles.
    const broadcast: typeof realtime.broadcast = (audience, event, ...args) => {
      realtime.broadcast(audience, event, ...args);
      if (event === "incident:created") ingest.incidentPushed((args[0] as { id: number }).id);
    };
    const pushes = incidentPushes(
      {
        view: (id) => repos.incidents.view(id),
        timelineSince: (id, after) => timelineSince(db.prisma, id, after),
        massEvent: (id) => loadMassEvent(db.prisma, id),
      },
      broadcast,
    );
    const pushCall = callPushes(db.prisma, realtime.broadcast);
    const massEvents = new MassEventGrouping(createMassEventStore(db.prisma), uow, incidentPolicy);
    const handlers: OutboxHandlers = {
      "incident.opened": [
        { name: "push incident", handle: async ({ incidentId }) => void (await pushes.incident(incidentId, "incident:created")) },
        { name: "push timeline", handle: ({ incidentId }) => pushes.timeline(incidentId) },
        { name: "auto-dispatch", handle: async ({ incidentId, autoDispatch }) => void (autoDispatch && (await dispatch.offers.autoDispatch(incidentId))) },
        { name: "group mass events", handle: ({ incidentId }) => massEvents.incidentOpened(incidentId) },
      ],
      "incident.changed": [
        {
          // One handler for both: the status just pushed saves freeing the teams its own read.
          name: "push incident, free its teams once ended",
          handle: async ({ incidentId }) => {
            const view = await pushes.incident(incidentId, "incident:updated");
            await dispatch.arrival.onIncidentChanged(incidentId, view ? view.status : null);
          },
        },
        { name: "push timeline", handle: ({ incidentId }) => pushes.timeline(incidentId) },
      ],
      "team.changed": [
        {
          name: "push team",
          handle: ({ teamId }) => {
            const team = dispatch.teams.view(teamId);
            // GET /api/teams: the centre and every rescuer read all teams, a company admin its own.
            if (team) realtime.broadcast({ companyId: team.maintenanceCompanyId, teamIds: [team.id], rescuers: true }, "team:updated", team);
          },
        },
      ],
      "call.changed": [{ name: "push call", handle: pushCall }],
      "mass_event.changed": [{ name: "push mass event", handle: ({ massEventId }) => pushes.massEvent(massEventId) }],
      "dispatch.next": [{ name: "offer next team", handle: ({ incidentId, reason }) => dispatch.offers.dispatchIfUnassigned(incidentId, reason) }],
      "deadline.due": [
        {
          name: "run deadline",
          handle: ({ deadlineId, incidentId, kind, data }) =>
            kind === "offer_timeout"
              ? dispatch.answers.expire(Number(data?.offerId))
              : dispatch.arrival.checkArrival(incidentId, kind === "arrival_warning" ? "warning" : "deadline", deadlineId),
        },
      ],
      "sla.alert": [{ name: "push SLA alert", handle: ({ event, alert }) => realtime.broadcast("centre", event, alert) }],
    };
    const relay = new OutboxRelay(outbox, committed, handlers, log.child({ part: "outbox" }), {
      pollMs: config.sla.tickMs,
      leaseMs: OUTBOX_LEASE_MS,
      exclusive: config.database.kind === "pglite",
      clock,
    });
    registerHealthRoutes(api, app, {
      db,
      config,
      mqtt: () => mqtt,
      realtime: () => realtime,
      ingest,
      outbox: { repository: outbox, relay, clock },
      startedAt,
      version: VERSION,
    });
    mountHttp(app, api, { config, log, sessions, clock });

    await relay.start();
    stack.push(() => relay.stop());
    const sla = new SlaScheduler(uow, log.child({ part: "sla" }), { tickMs: config.sla.tickMs, clock });
    sla.start();
    stack.push(() => sla.stop());

    await new Promise<void>((resolve, reject) => {
      server.once("error", (error: NodeJS.ErrnoException) =>
        reject(error.code === "EADDRINUSE" ? new PortInUseError(`HTTP port ${config.port} is already in use (set PORT)`) : error),
      );
      server.listen(config.port, config.host, () => resolve());
    });
    stack.push(
      () =>
        new Promise<void>((resolve) => {
          // Upgraded WebSocket connections no longer belong to the HTTP server: closeAllConnections misses
          // them and close() would wait for the browsers to go. End this process's Socket.io clients first.
          realtime.io.engine.close();
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    );
    const httpPort = (server.address() as { port: number }).port;
    const mqttUrl = broker ? `mqtt://127.0.0.1:${broker.port}` : config.mqtt.url;
    return { config, db, uow, relay, registry, ingest, dispatch, sla, broker, mqtt, realtime, httpPort, mqttUrl, stop: stopAll };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

/** Security headers, same-origin and JSON-only rules, sessions, API docs, the console's files, errors. */
function mountHttp(app: express.Express, api: ApiRouter, deps: { config: Config; log: Logger; sessions: Sessions; clock: () => Date }): void {
  const { config, log, sessions, clock } = deps;
  const openApi = api.openApiDocument({ title: "96333 电梯应急处置平台 API", version: VERSION });
  app.disable("x-powered-by");
  app.use(
    helmet({
      contentSecurityPolicy: {
        directives: {
          // Map tiles come from the chosen provider's servers.
          "img-src": ["'self'", "data:", "blob:", "https:"],
          "connect-src": ["'self'", "ws:", "wss:"],
        },
      },
    }),
  );
  const telephonySecret = config.telephonySecret ?? (config.demo.load ? demoTelephonySecret(config.demo.deviceKey) : null);
  if (!config.telephonySecret && telephonySecret) log.warn("telephony webhook uses the public demo secret (npm run call); set TELEPHONY_SECRET in production");
  app.use(TELEPHONY_PATH, ...telephonyAuth({ secret: telephonySecret, clock })); // the signature covers the raw body
  // CORS: same origin only. No Access-Control-Allow-* header is ever sent, and a cross-origin request
  // that announces itself (Origin differs from Host) is refused outright on the API.
  app.use("/api", (req, res, next) => {
    const origin = req.get("origin");
    if (origin && origin !== `${req.protocol}://${req.get("host")}`) {
      res.status(403).json({ error: { id: "cross_origin", message: "cross-origin requests are not allowed" } });
      return;
    }
    // CSRF: the session cookie is SameSite=Strict, and mutating requests must be JSON, which a
    // cross-site form cannot send and cross-site fetch cannot send without a (refused) preflight.
    const type = (req.get("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
    const mutating = req.method !== "GET" && req.method !== "HEAD" && req.method !== "OPTIONS";
    if (mutating && type !== "application/json" && !req.originalUrl.startsWith(TELEPHONY_PATH)) {
      res.status(415).json({ error: { id: "unsupported_media_type", message: "send Content-Type: application/json" } });
      return;
    }
    next();
  });
  // Photos from the field app are the one larger JSON body; the parser below leaves a parsed body alone.
  app.use(PHOTO_UPLOAD_PATH, express.json({ limit: PHOTO_BODY_LIMIT }));
  app.use(express.json({ limit: "100kb" }));
  app.use("/api", sessions.middleware());
  app.get("/api/openapi.json", (_req, res) => void res.json(openApi));
  app.use("/api/docs", swaggerUi.serve, swaggerUi.setup(openApi, { customSiteTitle: "96333 API" }));
  app.use(api.router);
  app.use("/api", (_req, res) => void res.status(404).json({ error: { id: "not_found", message: "no such API route" } }));
  const clientDir = path.resolve(config.clientDir);
  if (fs.existsSync(path.join(clientDir, "index.html"))) {
    app.use(
      express.static(clientDir, {
        index: "index.html",
        maxAge: "1h",
        // A phone must learn of a new app version at its next start, not an hour later.
        setHeaders: (res, file) => {
          if (/(field-sw|workbox-[\w-]+)\.js$|\.webmanifest$/.test(file)) res.setHeader("Cache-Control", "no-cache");
        },
      }),
    );
    // The rescuer phone app: a page of its own, installable.
    if (fs.existsSync(path.join(clientDir, "field.html"))) {
      app.get(/^\/field(\/.*)?$/, (_req, res) => res.sendFile(path.join(clientDir, "field.html")));
    }
    app.get(/^\/(?!api\/|socket\.io\/|metrics$).*/, (_req, res) => res.sendFile(path.join(clientDir, "index.html")));
  } else {
    log.warn({ clientDir }, "client not built: run `npm run build:client`; serving the API only");
  }
  app.use(errorHandler(log));
}
