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
import { DomainEvents } from "./platform/events.ts";
import { ApiRouter, errorHandler } from "./platform/http.ts";
import { createRepositories } from "./platform/repositories.ts";
import { DeviceRegistry } from "./devices/registry.ts";
import { DeviceIngest } from "./devices/ingest.ts";
import { DispatchService } from "./dispatch/service.ts";
import { registerDispatchRoutes } from "./dispatch/routes.ts"; // issue 5
import { SlaScheduler } from "./sla/scheduler.ts"; // issue 5
import { incidentAudience, loadIncidentView } from "./incidents/presenter.ts";
import { registerIncidentRoutes } from "./incidents/routes.ts";
import { registerMapRoutes } from "./map/routes.ts";
import { registerHealthRoutes } from "./health/routes.ts";
import { ensureDemoData } from "./seed/load.ts";
// Issue 4 (call intake, identification, lifecycle)
import { CallService } from "./calls/service.ts";
import { registerCallRoutes, telephonyAuth, TELEPHONY_PATH } from "./calls/routes.ts";
import { demoTelephonySecret } from "./calls/signature.ts";
import { startCallFanout } from "./calls/fanout.ts";
import { registerElevatorLookupRoutes } from "./elevators/routes.ts";
import { startIncidentFanout } from "./incidents/fanout.ts";
import { setIncidentPolicy } from "./incidents/service.ts";
import { startMassEventGrouping } from "./incidents/mass-events.ts";
// Issue 3 (elevator IoT)
import { registerAlarmRoutes } from "./alarms/routes.ts";
import { registerDeviceRoutes } from "./devices/routes.ts";
import { startLiveFanout } from "./devices/live.ts";
// Issue 6 (accounts, roles, audit)
import { Sessions } from "./auth/sessions.ts";
import { registerAuthRoutes } from "./auth/routes.ts";
import { appendAudit } from "./audit/log.ts";
import { registerAuditRoutes } from "./audit/routes.ts";

export const VERSION = "0.1.0";

export class PortInUseError extends Error {}

export interface Platform {
  config: Config;
  db: Database;
  events: DomainEvents;
  registry: DeviceRegistry;
  ingest: DeviceIngest;
  dispatch: DispatchService;
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

/**
 * Starts every part in dependency order: database (migrated, demo data when empty), in-memory state,
 * broker and ingest, HTTP + Socket.io. If a part fails, the parts already started are stopped again.
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
    const db = await connectDatabase(config.database);
    stack.push(() => db.close());
    if (db.migrationsApplied.length) log.info({ migrations: db.migrationsApplied }, "database migrated");
    if (config.demo.load) {
      const summary = await ensureDemoData(db.prisma, { elevators: config.demo.elevators, raw: db.raw });
      if (summary.loaded) log.info(summary, "Tianjin demo data loaded");
    }

    const repos = createRepositories(db);
    const events = new DomainEvents();
    events.reportErrorsTo((name, error) => log.error({ err: error, event: name }, "domain event handler failed"));
    const registry = new DeviceRegistry(repos.devices);
    const dispatch = new DispatchService(db.prisma, events, log.child({ part: "dispatch" }), {
      offerTimeoutS: config.offerTimeoutS,
      clock,
      // issue 5: tier policy, availability and SLA settings
      policy: { order: config.dispatch.tiers, allTiersAtOnce: config.dispatch.allTiersAtOnce, sameSiteMax: config.dispatch.sameSiteMax },
      positionStaleS: config.dispatch.positionStaleS,
      arrivalRadiusM: config.dispatch.arrivalRadiusM,
      slaWarningLeadS: config.sla.warningLeadS,
    });
    await Promise.all([registry.load(), dispatch.load()]);

    let broker: EmbeddedBroker | null = null;
    let mqtt: MqttClient;
    const clientId = `platform-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
    if (config.mqtt.kind === "embedded") {
      broker = await startEmbeddedBroker({ port: config.mqtt.port, devices: registry, log: log.child({ part: "broker" }) });
      stack.push(() => broker!.close());
      mqtt = await connectPlatformClient(`mqtt://127.0.0.1:${broker.port}`, { clientId, ...broker.platformCredentials });
    } else {
      mqtt = await connectPlatformClient(config.mqtt.url, {
        clientId,
        username: config.mqtt.username,
        password: config.mqtt.password,
      });
    }
    stack.push(() => mqtt.endAsync(true));
    const ingest = new DeviceIngest({
      prisma: db.prisma,
      registry,
      events,
      log: log.child({ part: "ingest" }),
      statusFlushMs: config.statusFlushMs,
      // Issue 3: flapping policy and heartbeat timeout.
      flap: { cycles: config.iot.flapCycles, windowMs: config.iot.flapWindowS * 1000 },
      offlineAfterMs: config.iot.offlineAfterS * 1000,
      raw: db.raw,
    });
    await ingest.loadPresence();
    await ingest.attach(mqtt, { shareGroup: config.mqtt.kind === "external" ? config.mqtt.shareGroup : null });
    stack.push(() => ingest.stop());

    const app = express();
    const server = http.createServer(app);
    const sessions = new Sessions(repos.auth.sessions);
    const realtime = await startRealtime(server, { redisUrl: config.redisUrl, log, sessions });
    stack.push(() => realtime.close());

    const api = new ApiRouter();
    const audit = (entry: Parameters<typeof appendAudit>[1]) => appendAudit(repos.audit, entry);
    api.audit = audit;
    registerAuthRoutes(api, { users: repos.auth.users, sessions, audit });
    registerAuditRoutes(api, { audit: repos.audit });
    // Issue 4: lifecycle commands, calls, identification (lookup before any /api/elevators/{id} route).
    setIncidentPolicy({
      mergeWindowMs: config.incidents.mergeWindowMin * 60_000,
      massWindowMs: config.incidents.massWindowMin * 60_000,
      massSiteMin: config.incidents.massSiteMin,
      massDistrictMin: config.incidents.massDistrictMin,
    });
    registerIncidentRoutes(api, db.prisma, { reads: repos.incidents, access: repos.auth.access, events, clock });
    const calls = new CallService(db.prisma, events, clock);
    registerCallRoutes(api, { calls });
    registerElevatorLookupRoutes(api, { elevators: repos.elevators });
    // Issue 3: alarm lifecycle, device registry, live elevator status.
    registerAlarmRoutes(api, { alarms: repos.alarms });
    registerDeviceRoutes(api, { devices: repos.devices, registry, ingest, endSession: (id) => void broker?.disconnect(id) });
    const stopLiveFanout = startLiveFanout(ingest, realtime.io, config.iot.liveFanoutMs);
    stack.push(async () => stopLiveFanout());
    registerMapRoutes(api, { map: repos.map, elevators: repos.elevators, config, dispatch });
    registerDispatchRoutes(api, { prisma: db.prisma, dispatch }); // issue 5
    registerHealthRoutes(api, app, {
      db,
      config,
      mqtt: () => mqtt,
      realtime: () => realtime,
      ingest,
      startedAt,
      version: VERSION,
    });
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
    app.use(TELEPHONY_PATH, ...telephonyAuth({ secret: telephonySecret, clock })); // issue 4: signed raw body
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
    app.use(express.json({ limit: "100kb" }));
    app.use("/api", sessions.middleware());
    app.get("/api/openapi.json", (_req, res) => void res.json(openApi));
    app.use("/api/docs", swaggerUi.serve, swaggerUi.setup(openApi, { customSiteTitle: "96333 API" }));
    app.use(api.router);
    app.use("/api", (_req, res) => void res.status(404).json({ error: { id: "not_found", message: "no such API route" } }));
    const clientDir = path.resolve(config.clientDir);
    if (fs.existsSync(path.join(clientDir, "index.html"))) {
      app.use(express.static(clientDir, { index: "index.html", maxAge: "1h" }));
      app.get(/^\/(?!api\/|socket\.io\/|metrics$).*/, (_req, res) => res.sendFile(path.join(clientDir, "index.html")));
    } else {
      log.warn({ clientDir }, "client not built: run `npm run build:client`; serving the API only");
    }
    app.use(errorHandler(log));

    events.on("incident.opened", async ({ incidentId, autoDispatch }) => {
      const view = await loadIncidentView(db.prisma, incidentId);
      if (view) realtime.broadcast(incidentAudience(view), "incident:created", view);
      if (autoDispatch) await dispatch.autoDispatch(incidentId);
    });
    events.on("incident.changed", async ({ incidentId }) => {
      const view = await loadIncidentView(db.prisma, incidentId);
      if (view) realtime.broadcast(incidentAudience(view), "incident:updated", view);
      // issue 5: free the teams of an incident that ended; the status just read saves dispatch its own read.
      await dispatch.onIncidentChanged(incidentId, view ? view.status : null);
    });
    // issue 4: calls, timeline entries and mass events to the consoles
    startCallFanout(events, db.prisma, realtime.broadcast);
    startIncidentFanout(events, db.prisma, realtime.broadcast);
    startMassEventGrouping(events, db.prisma, (error) => log.error({ err: error }, "mass event grouping failed"));
    // --- issue 5: SLA deadlines fired from database rows (teams are freed by the incident.changed handler above) ---
    dispatch.notifySla = (event, alert) => realtime.broadcast("centre", event, alert);
    const sla = new SlaScheduler(
      db.prisma,
      {
        offer_timeout: (row) => dispatch.expireOffer(Number(row.data?.offerId)),
        arrival_warning: (row) => dispatch.checkArrival(row.incidentId, "warning"),
        arrival: (row) => dispatch.checkArrival(row.incidentId, "deadline"),
      },
      log.child({ part: "sla" }),
      { tickMs: config.sla.tickMs, clock },
    );
    sla.start();
    stack.push(() => sla.stop());
    // --- end issue 5 ---
    events.on("team.changed", ({ teamId }) => {
      const team = dispatch.team(teamId);
      // GET /api/teams: the centre and every rescuer read all teams, a company admin its own.
      if (team) realtime.broadcast({ companyId: team.maintenanceCompanyId, teamIds: [team.id], rescuers: true }, "team:updated", team);
    });

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
    return { config, db, events, registry, ingest, dispatch, sla, broker, mqtt, realtime, httpPort, mqttUrl, stop: stopAll };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
