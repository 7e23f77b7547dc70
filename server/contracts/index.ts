/**
 * The contracts shared by server and console: REST response shapes and Socket.io events, and (re-exported
 * from their own files) the incident state machine, the response intervals and the role lists. Server
 * routes validate/present with these schemas; the client imports the inferred types. Pure code only:
 * the console and the device simulator reach the server through this folder and nothing else
 * (docs/architecture.md, "Boundaries"; enforced by `npm run check:boundaries`).
 */
import { z } from "zod";
import { incidentStatuses } from "./lifecycle.ts";

export * from "./lifecycle.ts";
export * from "./intervals.ts";
export * from "./roles.ts";
export * from "./errors.ts";
export * from "./field.ts";

export const latLng = { lat: z.number(), lng: z.number() };

export const teamKinds = ["maintenance", "rescue_station", "fire"] as const;
export const teamStatuses = ["available", "offered", "busy", "off_duty", "offline"] as const;
export const incidentKinds = ["entrapment", "fault", "other"] as const;
export const incidentSources = ["call", "alarm", "manual"] as const;
export const offerStatuses = ["offered", "accepted", "declined", "expired", "withdrawn", "completed"] as const;

export const districtView = z.object({
  id: z.number().int(),
  code: z.string(),
  name: z.string(),
  nameEn: z.string(),
  central: z.boolean(),
  arrivalLimitMinutes: z.number().int(),
  center: z.object(latLng),
  /** GeoJSON geometry (Polygon | MultiPolygon), WGS-84. */
  outline: z.unknown(),
});
export type DistrictView = z.infer<typeof districtView>;

/**
 * Elevators for the map in columnar form (200,000 rows stay a few MB):
 * index i of every array describes one elevator.
 */
export const elevatorPoints = z.object({
  count: z.number().int(),
  id: z.array(z.number().int()),
  lat: z.array(z.number()),
  lng: z.array(z.number()),
  rescueCode: z.array(z.string()),
  hasDevice: z.array(z.boolean()),
});
export type ElevatorPoints = z.infer<typeof elevatorPoints>;

export const elevatorCard = z.object({
  id: z.number().int(),
  rescueCode: z.string(),
  registrationCode: z.string(),
  type: z.string(),
  brand: z.string(),
  model: z.string(),
  floors: z.number().int(),
  unitNo: z.string(),
  usageUnit: z.string(),
  /** Dates (YYYY-MM-DD) and the last maintenance visit (ISO time, null when none is on record). */
  installDate: z.string(),
  nextInspectionDue: z.string(),
  lastMaintenanceAt: z.string().nullable(),
  inService: z.boolean(),
  site: z.object({ id: z.number().int(), name: z.string(), address: z.string(), ...latLng }),
  district: z.object({ id: z.number().int(), name: z.string() }),
  maintenanceCompany: z.object({
    id: z.number().int(),
    name: z.string(),
    contactName: z.string(),
    contactPhone: z.string(),
  }),
  deviceId: z.string().nullable(),
});
export type ElevatorCard = z.infer<typeof elevatorCard>;

export const teamView = z.object({
  id: z.number().int(),
  name: z.string(),
  kind: z.enum(teamKinds),
  status: z.enum(teamStatuses),
  phone: z.string(),
  /** Live position when known, else the base. */
  ...latLng,
  positionAt: z.string().nullable(),
  maintenanceCompanyId: z.number().int().nullable(),
  organisation: z.string(),
});
export type TeamView = z.infer<typeof teamView>;

export const offerView = z.object({
  id: z.number().int(),
  teamId: z.number().int(),
  teamName: z.string(),
  tier: z.number().int(),
  status: z.enum(offerStatuses),
  backup: z.boolean(),
  estimatedArrivalS: z.number().int(),
  distanceM: z.number().int(),
  offeredAt: z.string(),
  expiresAt: z.string(),
});
export type OfferView = z.infer<typeof offerView>;

export const incidentView = z.object({
  id: z.number().int(),
  code: z.string(),
  kind: z.enum(incidentKinds),
  status: z.enum(incidentStatuses),
  source: z.enum(incidentSources),
  reportedAt: z.string(),
  arrivalDeadlineAt: z.string(),
  dispatchedAt: z.string().nullable(),
  onSceneAt: z.string().nullable(),
  releasedAt: z.string().nullable(),
  closedAt: z.string().nullable(),
  deviceOffline: z.boolean(),
  alarmCodes: z.array(z.string()),
  elevator: z.object({
    id: z.number().int(),
    rescueCode: z.string(),
    unitNo: z.string(),
    siteName: z.string(),
    address: z.string(),
    ...latLng,
    maintenanceCompanyId: z.number().int(),
  }),
  district: z.object({ id: z.number().int(), name: z.string() }),
  offers: z.array(offerView),
  // Counts, cause and grouping.
  acceptedAt: z.string().nullable(),
  enRouteAt: z.string().nullable(),
  trappedCount: z.number().int().nullable(),
  injuredCount: z.number().int().nullable(),
  causeClass: z.string().nullable(),
  causeText: z.string().nullable(),
  massEventId: z.number().int().nullable(),
  /**
   * The id of the incident's latest timeline event. Every change appends one in its transaction, so the
   * number grows with each change: a console drops a copy older than the one it holds (a push that arrives
   * after the REST answer to a later action).
   */
  revision: z.number().int(),
});
export type IncidentView = z.infer<typeof incidentView>;

/**
 * One of a team's live offers, as the team's phone reads it: still to answer (`offered`) or taken and not
 * yet finished (`accepted`; arrivedAt is set once on scene), with the incident it is for.
 */
export const teamOfferView = offerView.extend({
  respondedAt: z.string().nullable(),
  arrivedAt: z.string().nullable(),
  incident: incidentView,
});
export type TeamOfferView = z.infer<typeof teamOfferView>;

// --- dispatch engine and SLA ---
export const rankedTeamView = z.object({
  teamId: z.number().int(),
  teamName: z.string(),
  kind: z.enum(teamKinds),
  status: z.enum(teamStatuses),
  tier: z.number().int(),
  distanceM: z.number().int(),
  estimatedArrivalS: z.number().int(),
  usedLivePosition: z.boolean(),
});
export type RankedTeamView = z.infer<typeof rankedTeamView>;

/** Pushed to dispatchers and the supervising role (市场监管) when an arrival deadline is at risk. */
export const slaAlertView = z.object({
  incidentId: z.number().int(),
  incidentCode: z.string(),
  kind: z.enum(["warning", "escalated"]),
  /** follow_up_failing: an automatic step (deadline check, next offer) keeps failing; a person takes over. */
  reason: z.enum(["estimate_misses_deadline", "deadline_missed", "no_team_available", "follow_up_failing"]),
  arrivalDeadlineAt: z.string(),
  /** Best current arrival estimate of the teams on it, null when nobody is assigned. */
  estimatedArrivalAt: z.string().nullable(),
  /** Tier of the team added by the escalation, null when there was nobody left to add. */
  escalatedToTier: z.number().int().nullable(),
  escalatedToTeamId: z.number().int().nullable(),
  audience: z.array(z.enum(["dispatcher", "supervisor"])),
  at: z.string(),
  /** Which automatic step failed and how often (follow_up_failing only). */
  detail: z.string().optional(),
});
export type SlaAlertView = z.infer<typeof slaAlertView>;
// --- end dispatch engine and SLA ---

export const healthView = z.object({
  status: z.enum(["ok", "degraded"]),
  uptimeS: z.number(),
  version: z.string(),
  database: z.object({ ok: z.boolean(), kind: z.enum(["pglite", "postgres"]), latencyMs: z.number().nullable() }),
  broker: z.object({
    ok: z.boolean(),
    kind: z.enum(["embedded", "external"]),
    url: z.string(),
    /** Each platform connection: reconnecting forever with backoff after a broker restart. */
    links: z.array(
      z.object({
        name: z.string(),
        state: z.enum(["connected", "reconnecting"]),
        since: z.string(),
        reconnects: z.number().int(),
        failedAttempts: z.number().int(),
        nextAttemptMs: z.number().nullable(),
        lastError: z.string().nullable(),
      }),
    ),
  }),
  realtime: z.object({ clients: z.number().int(), adapter: z.enum(["memory", "redis"]) }),
  ingest: z.record(z.string(), z.number()),
  /** Follow-ups of committed changes not yet delivered: a backlog that grows or ages means something is stuck. */
  outbox: z.object({ pending: z.number().int(), oldestAgeS: z.number().nullable(), failing: z.number().int(), delivered: z.number().int(), failed: z.number().int(), escalated: z.number().int() }),
  /** The device edge: status waiting (at most one per device), status shed by reason, alarms not yet acknowledged. */
  devices: z.object({
    queueDepth: z.number().int(),
    queueMax: z.number().int(),
    oldestQueuedMs: z.number(),
    heldConnections: z.number().int(),
    shed: z.object({ rate_limited: z.number().int(), superseded: z.number().int(), queue_full: z.number().int() }),
    shedPerS: z.number(),
    ingestedPerS: z.number(),
    unackedAlarms: z.number().int(),
    oldestUnackedAlarmS: z.number().nullable(),
    /** Alarms taken and waiting for the database (bounded; beyond it devices keep repeating). */
    pendingAlarmStores: z.number().int(),
    /** Status samples and presence changes waiting for the database (bounded; the oldest are dropped first). */
    writeBacklog: z.object({ samples: z.number().int(), presence: z.number().int() }),
  }),
  /** Why the status is `degraded` (empty when `ok`). */
  degradedReasons: z.array(z.string()),
});
export type HealthView = z.infer<typeof healthView>;

export const apiError = z.object({
  error: z.object({ id: z.string(), message: z.string(), details: z.unknown().optional() }),
});

/** Server -> client broadcasts (past tense), per Socket.io's typed-events example. */
export interface ServerToClientEvents {
  "incident:created": (incident: IncidentView) => void;
  "incident:updated": (incident: IncidentView) => void;
  "team:updated": (team: TeamView) => void;
  "sla:warning": (alert: SlaAlertView) => void;
  "sla:escalated": (alert: SlaAlertView) => void;
}
/** Client -> server requests; answered through the acknowledgement with {data} or {error}. */
export interface ClientToServerEvents {
  "incidents:list": (ack: (reply: { data: IncidentView[] } | { error: string }) => void) => void;
}

// ---- elevator IoT: alarms, device registry, live elevator status ----

export const alarmView = z.object({
  id: z.number().int(),
  deviceId: z.string(),
  alarmId: z.string(),
  code: z.string(),
  rawCode: z.string(),
  severity: z.enum(["critical", "major", "minor", "warning"]),
  active: z.boolean(),
  acknowledged: z.boolean(),
  raisedAt: z.string(),
  receivedAt: z.string(),
  clearedAt: z.string().nullable(),
  ackAt: z.string().nullable(),
  ackBy: z.string().nullable(),
  repeatCount: z.number().int(),
  flapping: z.boolean(),
  flapCount: z.number().int(),
  floor: z.number().int().nullable(),
  passengers: z.boolean().nullable(),
  elevatorId: z.number().int().nullable(),
  incidentId: z.number().int().nullable(),
});
export type AlarmView = z.infer<typeof alarmView>;

export const deviceView = z.object({
  id: z.string(),
  elevatorId: z.number().int().nullable(),
  firmware: z.string().nullable(),
  online: z.boolean(),
  lastSeenAt: z.string().nullable(),
  disabled: z.boolean(),
  createdAt: z.string(),
});
export type DeviceView = z.infer<typeof deviceView>;

/** A device's secret is in a response exactly once: at registration or rotation. */
export const deviceWithSecret = z.object({ device: deviceView, secret: z.string() });

export const elevatorLiveView = z.object({
  elevatorId: z.number().int(),
  deviceId: z.string(),
  online: z.boolean(),
  lastSeenAt: z.string().nullable(),
  /** Status messages lost in transit (gaps in `seq`). */
  lostMessages: z.number().int(),
  status: z
    .object({
      ts: z.string(),
      seq: z.number().int(),
      floor: z.number().int(),
      dir: z.string(),
      door: z.string(),
      moving: z.boolean(),
      inDoorZone: z.boolean(),
      passengers: z.boolean(),
      mode: z.string(),
      speed: z.number().optional(),
      load: z.number().optional(),
    })
    .nullable(),
});
export type ElevatorLiveView = z.infer<typeof elevatorLiveView>;

// Declaration merging keeps the IoT events apart from the lines above.
export interface ServerToClientEvents {
  /** Coalesced: at most one batch per LIVE_FANOUT_MS, carrying only the elevators that changed. */
  "elevator:status": (batch: ElevatorLiveView[]) => void;
}

// ---- call intake, identification, lifecycle: calls, lookup, timeline, mass events ----

export const causeClasses = ["external", "human", "door_system", "equipment", "other"] as const;

export const callView = z.object({
  id: z.number().int(),
  externalId: z.string().nullable(),
  source: z.enum(["pbx", "manual"]),
  callerNumber: z.string(),
  line: z.string().nullable(),
  agent: z.string().nullable(),
  recordingRef: z.string().nullable(),
  rescueCode: z.string().nullable(),
  ringingAt: z.string(),
  answeredAt: z.string().nullable(),
  endedAt: z.string().nullable(),
  /** Latest hold and latest resume: the call is on hold while heldAt is the later one. */
  heldAt: z.string().nullable(),
  resumedAt: z.string().nullable(),
  elevatorId: z.number().int().nullable(),
  incidentId: z.number().int().nullable(),
  notes: z.string().nullable(),
});
export type CallView = z.infer<typeof callView>;

export const elevatorCandidate = z.object({
  id: z.number().int(),
  rescueCode: z.string(),
  registrationCode: z.string(),
  unitNo: z.string(),
  type: z.string(),
  brand: z.string(),
  site: z.object({ id: z.number().int(), name: z.string(), address: z.string(), ...latLng }),
  district: z.object({ id: z.number().int(), name: z.string() }),
  maintenanceCompany: z.object({ id: z.number().int(), name: z.string(), contactPhone: z.string() }),
  openIncidentId: z.number().int().nullable(),
  /** Why this elevator is offered: exact code, one digit off, same site, text similarity, caller history. */
  match: z.enum(["rescue_code", "registration_code", "near_code", "same_site", "text", "caller_history"]),
  score: z.number(),
});
export type ElevatorCandidate = z.infer<typeof elevatorCandidate>;

export const lookupResult = z.object({
  kind: z.enum(["rescue_code", "registration_code", "text", "caller", "position"]),
  query: z.string().nullable(),
  found: z.boolean(),
  /** For people (zh-CN first): what was found, or why nothing exactly matched. */
  message: z.string(),
  /** Why nothing matched, as an id clients word themselves (null when something did). */
  hint: z.enum(["unknown_code", "unknown_code_no_close", "no_text_match", "no_caller_history"]).nullable().optional(),
  candidates: z.array(elevatorCandidate),
  closeMatches: z.array(elevatorCandidate),
  previousCalls: z.array(
    z.object({
      callId: z.number().int(),
      ringingAt: z.string(),
      elevatorId: z.number().int().nullable(),
      rescueCode: z.string().nullable(),
      incidentId: z.number().int().nullable(),
    }),
  ),
  nearbyAlarms: z.array(
    z.object({
      alarmId: z.number().int(),
      code: z.string(),
      severity: z.string(),
      receivedAt: z.string(),
      elevatorId: z.number().int(),
      rescueCode: z.string(),
      siteName: z.string(),
      distanceM: z.number().int(),
      incidentId: z.number().int().nullable(),
    }),
  ),
  tookMs: z.number(),
});
export type LookupResult = z.infer<typeof lookupResult>;

export const timelineEventView = z.object({
  id: z.string(),
  type: z.string(),
  fromStatus: z.string().nullable(),
  toStatus: z.string().nullable(),
  actorType: z.string(),
  actorId: z.string().nullable(),
  at: z.string(),
  lat: z.number().nullable(),
  lng: z.number().nullable(),
  reason: z.string().nullable(),
  data: z.unknown(),
  /** The actor for people (a dispatcher's or team's name); absent where only ids are given. */
  actorName: z.string().nullable().optional(),
});
export type TimelineEventView = z.infer<typeof timelineEventView>;

/** Every entry type the server writes to a timeline (a `transition` is named by its target status). */
export const timelineEventTypes = [
  "reported",
  "repeat_report",
  "transition",
  "offer_made",
  "offer_accepted",
  "offer_declined",
  "offer_expired",
  "offer_withdrawn",
  "team_departed",
  "team_arrived",
  "sla_warning",
  "sla_breached",
  "sla_escalated",
  "alarm_attached",
  "alarm_cleared",
  "alarm_flapping",
  "call_attached",
  "mass_event_joined",
  "device_offline",
  "passenger_callback",
  "follow_up",
  "note",
  "counts",
] as const;

/** The system parts that act on incidents (actorType "system", actorId one of these). */
export const systemActors = ["dispatch", "sla", "mass-events"] as const;

export const responseIntervalsView = z.object({
  callProcessingS: z.number().nullable(),
  acceptanceS: z.number().nullable(),
  travelS: z.number().nullable(),
  arrivalS: z.number().nullable(),
  extricationS: z.number().nullable(),
  entrapmentS: z.number().nullable(),
});

export const timelineView = z.object({
  incidentId: z.number().int(),
  status: z.enum(incidentStatuses),
  reportedAt: z.string(),
  events: z.array(timelineEventView),
  intervals: responseIntervalsView,
  calls: z.array(callView),
});
export type TimelineView = z.infer<typeof timelineView>;

export const massEventView = z.object({
  id: z.number().int(),
  kind: z.string(),
  title: z.string(),
  districtId: z.number().int().nullable(),
  siteId: z.number().int().nullable(),
  startedAt: z.string(),
  closedAt: z.string().nullable(),
  incidentIds: z.array(z.number().int()),
  openIncidents: z.number().int(),
  statusCounts: z.record(z.string(), z.number().int()),
});
export type MassEventView = z.infer<typeof massEventView>;

export interface ServerToClientEvents {
  /** Pop the call on the console; answered/ended update it. */
  "call:ringing": (call: CallView) => void;
  "call:answered": (call: CallView) => void;
  "call:ended": (call: CallView) => void;
  /** Linked to an elevator or incident, or edited. */
  "call:updated": (call: CallView) => void;
  "mass-event:updated": (massEvent: MassEventView) => void;
  /** One timeline entry as it is appended (transitions, steps, attached calls and alarms). */
  "incident:timeline": (entry: TimelineEventView & { incidentId: number }) => void;
}
