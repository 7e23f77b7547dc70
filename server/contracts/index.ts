/**
 * The one contracts module shared by server and client: REST response shapes and Socket.io events.
 * Server routes validate/present with these schemas; the client imports the inferred types.
 */
import { z } from "zod";

export const latLng = { lat: z.number(), lng: z.number() };

export const teamKinds = ["maintenance", "rescue_station", "fire"] as const;
export const teamStatuses = ["available", "offered", "busy", "off_duty", "offline"] as const;
export const incidentStatuses = [
  "reported",
  "dispatched",
  "accepted",
  "en_route",
  "on_scene",
  "released",
  "closed",
  "cancelled",
  "false_alarm",
] as const;
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
  }),
  district: z.object({ id: z.number().int(), name: z.string() }),
  offers: z.array(offerView),
});
export type IncidentView = z.infer<typeof incidentView>;

export const healthView = z.object({
  status: z.enum(["ok", "degraded"]),
  uptimeS: z.number(),
  version: z.string(),
  database: z.object({ ok: z.boolean(), kind: z.enum(["pglite", "postgres"]), latencyMs: z.number().nullable() }),
  broker: z.object({ ok: z.boolean(), kind: z.enum(["embedded", "external"]), url: z.string() }),
  realtime: z.object({ clients: z.number().int(), adapter: z.enum(["memory", "redis"]) }),
  ingest: z.record(z.string(), z.number()),
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
}
/** Client -> server requests; answered through the acknowledgement with {data} or {error}. */
export interface ClientToServerEvents {
  "incidents:list": (ack: (reply: { data: IncidentView[] } | { error: string }) => void) => void;
}
