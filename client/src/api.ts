import i18next from "i18next";
import type {
  CallView,
  DistrictView,
  ElevatorCard,
  ElevatorLiveView,
  ElevatorPoints,
  IncidentView,
  LookupResult,
  MassEventView,
  RankedTeamView,
  TeamView,
  TimelineView,
} from "../../server/contracts/index.ts";

export type TileProvider = "osm" | "tianditu" | "amap" | "none";

export interface ClientConfig {
  tiles: TileProvider;
  tiandituKey: string | null;
  center: { lat: number; lng: number };
  zoom: number;
}

export const fallbackConfig: ClientConfig = {
  tiles: "none",
  tiandituKey: null,
  center: { lat: 39.12, lng: 117.2 },
  zoom: 11,
};

/** A failed request: `id` is the server's stable error id (e.g. "conflict"), `details` its extra data. */
export class ApiError extends Error {
  constructor(
    readonly path: string,
    readonly status: number,
    message: string,
    readonly id: string | null = null,
    readonly details: unknown = undefined,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

async function request<T>(method: "GET" | "POST", path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      headers: { Accept: "application/json", ...(body === undefined ? {} : { "Content-Type": "application/json" }) },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal,
    });
  } catch (err) {
    if (err instanceof DOMException && err.name === "AbortError") throw err;
    throw new ApiError(path, 0, err instanceof Error ? err.message : String(err));
  }
  if (!res.ok) {
    let message = `HTTP ${res.status}`;
    let id: string | null = null;
    let details: unknown;
    try {
      const parsed = (await res.json()) as { error?: { id?: string; message?: string; details?: unknown } };
      if (parsed.error?.message) message = `HTTP ${res.status}: ${parsed.error.message}`;
      id = parsed.error?.id ?? null;
      details = parsed.error?.details;
    } catch {
      // non-JSON error body: keep the status line
    }
    throw new ApiError(path, res.status, message, id, details);
  }
  return (await res.json()) as T;
}

const get = <T>(path: string, signal?: AbortSignal) => request<T>("GET", path, undefined, signal);
const post = <T>(path: string, body: unknown = {}) => request<T>("POST", path, body);
/** A GET of any JSON route (the supervision screen builds its analytics queries itself). */
export const getJson = get;

/** Values the texts of some error ids name (the incident a call already belongs to, a status). */
function errorValues(err: ApiError): Record<string, string | number> {
  const details = (err.details && typeof err.details === "object" ? err.details : {}) as Record<string, unknown>;
  const incident = typeof details.incidentCode === "string" ? details.incidentCode : typeof details.incidentId === "number" ? `#${details.incidentId}` : "";
  return { status: err.status, incident };
}

/**
 * The message for a person, in the console's language: the server's stable error id picks the text, never
 * the server's own (English) message.
 */
export function shortError(err: unknown): string {
  const t = i18next.t.bind(i18next);
  if (err instanceof ApiError) {
    if (err.status === 0) return t("serverError.network");
    const key = err.id !== null ? `serverError.${err.id}` : null;
    if (key !== null && i18next.exists(key)) return t(key, errorValues(err));
    return t("serverError.unknown", { status: err.status });
  }
  return err instanceof Error ? err.message : String(err);
}

/** For the load-failure banner: the person's message and, for support, which request failed. */
export function errorMessage(err: unknown): string {
  if (err instanceof ApiError) return `${shortError(err)} (${err.path})`;
  return shortError(err);
}

export type CauseClass = "external" | "human" | "door_system" | "equipment" | "other";
export type StepType = "passenger_callback" | "follow_up" | "note" | "counts";
export type StepOutcome = "reached" | "no_answer" | "reassured" | "satisfied" | "complaint" | "other";

export interface CallOutcome {
  call: CallView;
  incident: IncidentView | null;
  incidentCreated: boolean;
}

export interface TransitionRequest {
  to: IncidentView["status"];
  reason?: string;
  causeClass?: CauseClass;
  causeText?: string;
  trappedCount?: number;
  injuredCount?: number;
}

const q = encodeURIComponent;

export const api = {
  clientConfig: (signal?: AbortSignal) => get<ClientConfig>("/api/client-config", signal),
  districts: (signal?: AbortSignal) => get<DistrictView[]>("/api/districts", signal),
  elevatorPoints: (signal?: AbortSignal) => get<ElevatorPoints>("/api/elevators/points", signal),
  teams: (signal?: AbortSignal) => get<TeamView[]>("/api/teams", signal),
  openIncidents: (signal?: AbortSignal) => get<IncidentView[]>("/api/incidents?open=true", signal),
  incident: (id: number, signal?: AbortSignal) => get<IncidentView>(`/api/incidents/${id}`, signal),
  openMassEvents: (signal?: AbortSignal) => get<MassEventView[]>("/api/mass-events?open=true", signal),
  activeCalls: (signal?: AbortSignal) => get<CallView[]>("/api/calls?active=true&limit=50", signal),

  // Call intake
  /** With the caller's number, a search that finds nothing suggests the elevators they called about before. */
  lookup: (query: string, signal?: AbortSignal, callerNumber?: string) =>
    get<LookupResult>(`/api/elevators/lookup?q=${q(query)}&limit=8${callerNumber ? `&caller=${q(callerNumber)}` : ""}`, signal),
  callerHistory: (callerNumber: string, signal?: AbortSignal) =>
    get<LookupResult>(`/api/elevators/lookup?caller=${q(callerNumber)}&limit=8`, signal),
  elevatorCard: (rescueCode: string, signal?: AbortSignal) => get<ElevatorCard>(`/api/elevators/by-rescue-code/${q(rescueCode)}`, signal),
  elevatorLive: (elevatorId: number, signal?: AbortSignal) => get<ElevatorLiveView>(`/api/elevators/${elevatorId}/live`, signal),
  createCall: (body: { callerNumber: string; rescueCode?: string; openIncident?: boolean; trappedCount?: number; notes?: string; endedAt?: string }) =>
    post<CallOutcome>("/api/calls", body),
  openIncidentFromCall: (callId: number, body: { rescueCode?: string; elevatorId?: number; trappedCount?: number; note?: string }) =>
    post<CallOutcome>(`/api/calls/${callId}/incident`, body),

  // Incident detail
  timeline: (incidentId: number, signal?: AbortSignal) => get<TimelineView>(`/api/incidents/${incidentId}/timeline`, signal),
  transition: (incidentId: number, body: TransitionRequest) =>
    post<{ incident: IncidentView }>(`/api/incidents/${incidentId}/transitions`, body),
  step: (incidentId: number, body: { type: StepType; outcome?: StepOutcome; note?: string; trappedCount?: number; injuredCount?: number }) =>
    post<{ incident: IncidentView }>(`/api/incidents/${incidentId}/steps`, body),

  // Dispatch
  candidates: (incidentId: number, limit = 5, signal?: AbortSignal) =>
    get<RankedTeamView[]>(`/api/incidents/${incidentId}/candidates?limit=${limit}`, signal),
  offer: (incidentId: number, body: { teamId?: number; backup?: boolean; allTiers?: boolean; reason: string }) =>
    post<IncidentView>(`/api/incidents/${incidentId}/offers`, body),
  withdrawOffer: (offerId: number, body: { reason: string; reassignTeamId?: number }) => post<IncidentView>(`/api/offers/${offerId}/withdraw`, body),
  acceptOffer: (offerId: number) => post<IncidentView>(`/api/offers/${offerId}/accept`, {}),
  departOffer: (offerId: number) => post<IncidentView>(`/api/offers/${offerId}/depart`, {}),
  confirmArrival: (offerId: number, reason: string) => post<IncidentView>(`/api/offers/${offerId}/arrive`, { confirm: true, reason }),
};
