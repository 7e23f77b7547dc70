import http from "node:http";
import https from "node:https";
import fs from "node:fs";
import path from "node:path";
import express from "express";
import helmet from "helmet";
import swaggerUi from "swagger-ui-express";
import type { MqttClient } from "mqtt";
import type { Config } from "./platform/config.ts";
import type { Logger } from "./platform/logger.ts";
import { connectDatabase, type Database } from "./platform/db/index.ts";
import { holdPGlite, pgliteHolder } from "./platform/db/in-use.ts";
import { startEmbeddedBroker, type EmbeddedBroker } from "./platform/broker.ts";
import { connectPlatformClient, type BrokerLink } from "./platform/mqtt.ts";
import { listenOn, PortInUseError } from "./platform/listen.ts";
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
import { escalateStuckFollowUp } from "./sla/stuck-follow-ups.ts";
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
import { registerAnalyticsRoutes } from "./analytics/routes.ts";
import { loadDemoHistory } from "./seed/history.ts";
import { registerHealthRoutes } from "./health/routes.ts";
import { ensureDemoData } from "./seed/load.ts";
import { Sessions } from "./auth/sessions.ts";
import { registerAuthRoutes } from "./auth/routes.ts";
import { accessChecks } from "./auth/scopes.ts";
import { createLoginLimits } from "./auth/login-limits.ts";
import { ensureFirstAdmin } from "./auth/first-admin.ts";
import { DemoSecretsInProductionError, findDemoSecrets } from "./seed/demo-secrets.ts";
import { metricsGuard } from "./health/metrics-access.ts";
import { appendAudit } from "./audit/log.ts";
import { createFieldRepository } from "./field/repository.ts";
import { defaultFieldOptions, FieldService } from "./field/service.ts";
import { PHOTO_BODY_LIMIT, PHOTO_UPLOAD_PATH, registerFieldRoutes } from "./field/routes.ts";
import { registerAuditRoutes } from "./audit/routes.ts";

export const VERSION = "0.1.0";

export { PortInUseError } from "./platform/listen.ts";

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
  /** The platform's connections to the broker (one embedded; status and alarms external). */
  brokerLinks: BrokerLink[];
  realtime: Realtime;
  /** The HTTP address actually bound (PORT=0 picks a free one). */
  httpPort: number;
  /** The MQTT URL devices use (mqtts:// with MQTT_TLS_ONLY). */
  mqttUrl: string;
  /** The embedded broker's MQTT-over-TLS URL, when it has a certificate. */
  mqttTlsUrl: string | null;
  /** http or https (TLS_CERT / TLS_KEY). */
  scheme: "http" | "https";
  stop(): Promise<void>;
}

/** How long a process's claim on an outbox row holds before another process may deliver it. */
const OUTBOX_LEASE_MS = 3_000;
/**
 * Longest wait for one part to stop: a part whose peer is gone (broker, database, Redis) must not hold the
 * process in "stopping"; a service manager gives SIGTERM about 10 s before SIGKILL.
 */
const STOP_STEP_MS = 2_500;

function withinStepTime(step: () => Promise<void>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    step(),
    new Promise<void>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${STOP_STEP_MS} ms; left behind`)), STOP_STEP_MS);
      timer.unref();
    }),
  ]).finally(() => clearTimeout(timer));
}

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
    for (const stop of stack.reverse()) await withinStepTime(stop).catch((error) => log.warn({ err: error }, "stop step failed"));
    stack.length = 0;
  };
  try {
    const tls = config.tls ? { cert: fs.readFileSync(config.tls.certFile), key: fs.readFileSync(config.tls.keyFile) } : null;
    const mqttCa = config.mqtt.kind === "external" && config.mqtt.caFile ? fs.readFileSync(config.mqtt.caFile) : undefined;
    // Database and the unit of work.
    if (config.database.kind === "pglite" && config.database.dataDir) {
      const holder = pgliteHolder(config.database.dataDir);
      if (holder !== null) throw new Error(`the PGlite database ${config.database.dataDir} is in use by another server (process ${holder})`);
    }
    const db = await connectDatabase(config.database);
    stack.push(() => db.close());
    if (config.database.kind === "pglite" && config.database.dataDir) {
      const release = holdPGlite(config.database.dataDir);
      stack.push(async () => release());
    }
    if (db.migrationsApplied.length) log.info({ migrations: db.migrationsApplied }, "database migrated");
    if (config.demo.load) {
      const summary = await ensureDemoData(db.prisma, { elevators: config.demo.elevators, raw: db.raw });
      if (summary.loaded) log.info(summary, "Tianjin demo data loaded");
      if (config.demo.historyMonths > 0) {
        // Whole Shanghai days, so that a restart on the same day would generate the same history.
        const until = new Date(Math.floor((clock().getTime() + 8 * 3600_000) / 86_400_000) * 86_400_000 - 8 * 3600_000);
        const incidents = await loadDemoHistory(db.prisma, { months: config.demo.historyMonths, until, raw: db.raw });
        if (incidents) log.info({ incidents, months: config.demo.historyMonths }, "demo history generated");
      }
    }
    const repos = createRepositories(db);
    if (config.production) {
      const demoSecrets = await findDemoSecrets(db.prisma, config);
      if (demoSecrets.length) throw new DemoSecretsInProductionError(`NODE_ENV=production refuses demo secrets: ${demoSecrets.join("; ")}`);
    }
    if (!config.demo.load) await ensureFirstAdmin(repos.auth.users, config.auth.firstAdmin, log);
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
    let link: BrokerLink;
    let alarmLink: BrokerLink | null = null;
    // A configured client id is stable across restarts, so the broker can keep a persistent session for it.
    const clientId = config.mqtt.kind === "external" && config.mqtt.clientId ? config.mqtt.clientId : `platform-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
    const brokerLog = log.child({ part: "mqtt" });
    if (config.mqtt.kind === "embedded") {
      broker = await startEmbeddedBroker({
        port: config.mqtt.port,
        portMayMove: config.portsMayMove.mqtt,
        tls:
          tls && config.mqtt.tlsPort !== null
            ? { port: config.mqtt.tlsPort, only: config.mqtt.tlsOnly, portMayMove: config.portsMayMove.mqttTls, ...tls }
            : undefined,
        devices: registry,
        log: log.child({ part: "broker" }),
      });
      stack.push(() => broker!.close());
      link = await connectPlatformClient(broker.localUrl, { clientId, ...broker.platformCredentials, rejectUnauthorized: false, name: "platform", log: brokerLog });
      stack.push(() => link.client.endAsync(true));
    } else {
      const login = { username: config.mqtt.username, password: config.mqtt.password, ca: mqttCa, log: brokerLog, persistentSession: Boolean(config.mqtt.clientId) };
      link = await connectPlatformClient(config.mqtt.url, { clientId, name: "status", ...login });
      stack.push(() => link.client.endAsync(true));
      // Alarms and their acks on a connection of their own: never behind status on the status socket.
      alarmLink = await connectPlatformClient(config.mqtt.url, { clientId: `${clientId}-alarms`, name: "alarms", ...login });
      stack.push(() => alarmLink!.client.endAsync(true));
    }
    const mqtt = link.client;
    const brokerLinks = alarmLink ? [link, alarmLink] : [link];
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
      alarmClient: alarmLink?.client,
      shareGroup: config.mqtt.kind === "external" ? config.mqtt.shareGroup : null,
    });
    stack.push(() => ingest.stop());

    // HTTP, Socket.io and every route.
    const app = express();
    // Behind a reverse proxy the scheme, host and client address come from its X-Forwarded-* headers.
    app.set("trust proxy", config.trustProxy);
    const server = tls ? https.createServer(tls, app) : http.createServer(app);
    const sessions = new Sessions(repos.auth.sessions);
    const realtime = await startRealtime(server, { redisUrl: config.redisUrl, log, sessions });
    stack.push(() => realtime.close());
    const audit = (entry: Parameters<typeof appendAudit>[1]) => appendAudit(repos.audit, entry);
    const api = new ApiRouter(audit);
    const loginLimits = createLoginLimits({ failures: config.auth.loginFailuresPerIp, windowS: 60, redisUrl: config.redisUrl, database: config.database });
    stack.push(() => loginLimits.close());
    registerAuthRoutes(api, { users: repos.auth.users, sessions, audit, limits: loginLimits, endSockets: (which) => realtime.endSessions(which), cookieSecure: config.cookieSecure });
    registerAuditRoutes(api, { audit: repos.audit });
    registerIncidentRoutes(api, db.prisma, { reads: repos.incidents, access: repos.auth.access, uow, clock });
    const calls = new CallService(new CallRepository(db.prisma), uow, new ElevatorLookup(repos.elevators), repos.incidents, clock, incidentPolicy);
    registerCallRoutes(api, { calls });
    // Lookup before any /api/elevators/{id} route.
    registerElevatorLookupRoutes(api, { elevators: repos.elevators });
    registerAlarmRoutes(api, { alarms: repos.alarms });
    const scopeChecks = accessChecks(repos.auth.access);
    registerDeviceRoutes(api, { devices: repos.devices, registry, ingest, endSession: (id) => void broker?.disconnect(id), elevatorInScope: scopeChecks.elevator });
    const stopLiveFanout = startLiveFanout(ingest, realtime.io, config.iot.liveFanoutMs, (ids) => repos.elevators.companiesOf(ids));
    stack.push(async () => stopLiveFanout());
    registerMapRoutes(api, { map: repos.map, elevators: repos.elevators, access: repos.auth.access, config, dispatch });
    registerDispatchRoutes(api, { prisma: db.prisma, access: repos.auth.access, dispatch });
    registerAnalyticsRoutes(api, { analytics: repos.analytics, clock, chromiumPath: config.chromiumPath });
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
      escalateAfterAttempts: config.outboxEscalateAfter,
      onStuck: escalateStuckFollowUp({
        incident: (id) => repos.incidents.view(id),
        push: (alert) => realtime.broadcast("centre", "sla:escalated", alert),
        log: log.child({ part: "outbox" }),
        clock,
      }),
    });
    const serveMetrics = registerHealthRoutes(api, {
      db,
      config,
      brokerLinks: () => brokerLinks,
      realtime: () => realtime,
      ingest,
      outbox: { repository: outbox, relay, clock },
      startedAt,
      version: VERSION,
    });
    app.get("/metrics", metricsGuard({ token: config.metrics.token, port: config.metrics.port, production: config.production }), serveMetrics);
    if (config.metrics.port !== null) {
      const internal = express();
      internal.get("/metrics", serveMetrics);
      const metricsServer = http.createServer(internal);
      await new Promise<void>((resolve, reject) => {
        metricsServer.once("error", (error: NodeJS.ErrnoException) =>
          reject(error.code === "EADDRINUSE" ? new PortInUseError(`metrics port ${config.metrics.port} is already in use (set METRICS_PORT)`) : error),
        );
        metricsServer.listen(config.metrics.port!, config.metrics.host, () => resolve());
      });
      stack.push(
        () =>
          new Promise<void>((resolve) => {
            metricsServer.closeAllConnections(); // a scraper's keep-alive connection must not hold the stop
            metricsServer.close(() => resolve());
          }),
      );
    } else if (config.production && config.metrics.token === null) {
      log.warn("/metrics is served nowhere: set METRICS_TOKEN (bearer token) or METRICS_PORT (internal listener)");
    }
    mountHttp(app, api, { config, log, sessions, clock });

    await relay.start();
    stack.push(() => relay.stop());
    const sla = new SlaScheduler(uow, log.child({ part: "sla" }), { tickMs: config.sla.tickMs, clock });
    sla.start();
    stack.push(() => sla.stop());

    const httpPort = await listenOn(server, { port: config.port, host: config.host, mayMove: config.portsMayMove.http, name: "HTTP", setting: "set PORT" });
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
    const mqttTlsUrl = broker?.tlsPort ? `mqtts://127.0.0.1:${broker.tlsPort}` : null;
    const mqttUrl = broker ? (broker.port !== null ? `mqtt://127.0.0.1:${broker.port}` : mqttTlsUrl!) : config.mqtt.url;
    const scheme = tls ? "https" : "http";
    return { config, db, uow, relay, registry, ingest, dispatch, sla, broker, mqtt, brokerLinks, realtime, httpPort, mqttUrl, mqttTlsUrl, scheme, stop: stopAll };
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
    // req.protocol and req.host follow X-Forwarded-Proto / -Host only from a trusted proxy (TRUST_PROXY).
    if (origin && origin !== `${req.protocol}://${req.host}`) {
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
