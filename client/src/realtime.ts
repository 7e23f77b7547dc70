import { useSyncExternalStore } from "react";
import { io, type Socket } from "socket.io-client";
import type {
  CallView,
  ClientToServerEvents,
  DistrictView,
  ElevatorLiveView,
  ElevatorPoints,
  IncidentView,
  MassEventView,
  ServerToClientEvents,
  SlaAlertView,
  TeamView,
  TimelineEventView,
} from "../../server/contracts/index.ts";
import { CITY_READERS, OPERATORS, type Role } from "../../server/contracts/index.ts";
import { api, errorMessage, fallbackConfig, type ClientConfig } from "./api.ts";
import { playEntrapmentAlert } from "./alerts/sound.ts";
import { belongsInIntake, mergeCall, sameCall } from "./calls/callState.ts";

export type ConnectionState = "connected" | "disconnected";
export type ErrorKey = "config" | "districts" | "elevators" | "teams" | "incidents" | "calls" | "massEvents";
export type SidePanel = "intake" | "incident" | "teams";

export interface ConsoleState {
  /** The signed-in user's role: what the console fetches and which actions it offers. */
  role: Role | null;
  connection: ConnectionState;
  config: ClientConfig | null;
  districts: readonly DistrictView[];
  elevators: ElevatorPoints | null;
  incidents: ReadonlyMap<number, IncidentView>;
  /** Revision at which recently ended incidents left the queue (bounded), so a late copy cannot revive them. */
  ended: ReadonlyMap<number, number>;
  teams: ReadonlyMap<number, TeamView>;
  errors: Readonly<Partial<Record<ErrorKey, string>>>;
  /** Calls the intake shows: ringing, talking, or ended without an incident and not yet dismissed. */
  calls: ReadonlyMap<number, CallView>;
  /** Calls that left the intake (bounded): late copies merge here and cannot bring them back. */
  callsGone: ReadonlyMap<number, CallView>;
  massEvents: ReadonlyMap<number, MassEventView>;
  /** Newest first, at most MAX_SLA_ALERTS. */
  slaAlerts: readonly SlaAlertView[];
  selectedIncidentId: number | null;
  /** A request to bring the map to an incident; the nonce makes a repeated request for the same one count. */
  flyTo: { id: number; nonce: number } | null;
  selectedCallId: number | null;
  panel: SidePanel;
  /** Bumped after every full re-fetch: views holding their own data (timeline, candidates) reload on it. */
  syncGeneration: number;
  /** New entrapments announced (sound played or muted) since the page loaded. */
  entrapmentAlerts: number;
  muted: boolean;
}

type Action =
  | { type: "role"; role: Role }
  | { type: "connection"; state: ConnectionState }
  | { type: "config"; config: ClientConfig }
  | { type: "districts"; districts: DistrictView[] }
  | { type: "elevators"; elevators: ElevatorPoints }
  | { type: "incidents:snapshot"; incidents: IncidentView[] }
  | { type: "teams:snapshot"; teams: TeamView[] }
  | { type: "incident:upsert"; incident: IncidentView }
  | { type: "team:upsert"; team: TeamView }
  | { type: "error"; key: ErrorKey; message: string | null }
  | { type: "calls:snapshot"; calls: CallView[] }
  | { type: "call:upsert"; call: CallView; ringing?: boolean }
  | { type: "call:dismiss"; id: number }
  | { type: "massEvents:snapshot"; massEvents: MassEventView[] }
  | { type: "massEvent:upsert"; massEvent: MassEventView }
  | { type: "sla:alert"; alert: SlaAlertView }
  | { type: "sla:dismiss"; incidentId: number }
  | { type: "select:incident"; id: number | null }
  | { type: "locate:incident"; id: number }
  | { type: "select:call"; id: number | null }
  | { type: "panel"; panel: SidePanel }
  | { type: "synced" }
  | { type: "entrapment:announced" }
  | { type: "muted"; muted: boolean };

export const MAX_SLA_ALERTS = 20;

const terminalStatuses: ReadonlySet<IncidentView["status"]> = new Set(["closed", "cancelled", "false_alarm"]);

export function isOpen(incident: IncidentView): boolean {
  return !terminalStatuses.has(incident.status);
}

export { belongsInIntake };

const MAX_ENDED_REMEMBERED = 1000;

function remember<T>(ended: ReadonlyMap<number, T>, id: number, revision: T): ReadonlyMap<number, T> {
  const next = new Map(ended);
  next.delete(id);
  next.set(id, revision);
  // Insertion order is age: drop the oldest beyond the bound.
  for (const key of next.keys()) {
    if (next.size <= MAX_ENDED_REMEMBERED) break;
    next.delete(key);
  }
  return next;
}

export function reduce(state: ConsoleState, action: Action): ConsoleState {
  switch (action.type) {
    case "role":
      return { ...state, role: action.role, panel: OPERATORS.includes(action.role) ? state.panel : "incident" };
    case "connection":
      return state.connection === action.state ? state : { ...state, connection: action.state };
    case "config":
      return { ...state, config: action.config };
    case "districts":
      return { ...state, districts: action.districts };
    case "elevators":
      return { ...state, elevators: action.elevators };
    case "incidents:snapshot":
      return {
        ...state,
        incidents: new Map(action.incidents.filter((i) => isOpen(i) && i.revision >= (state.ended.get(i.id) ?? -1)).map((i) => [i.id, i])),
      };
    case "teams:snapshot":
      return { ...state, teams: new Map(action.teams.map((t) => [t.id, t])) };
    case "incident:upsert": {
      const { incident } = action;
      // Pushes and REST answers can cross: never let an older copy replace a newer one, nor bring back
      // an incident that has ended.
      const held = state.incidents.get(incident.id)?.revision ?? state.ended.get(incident.id) ?? -1;
      if (incident.revision < held) return state;
      const incidents = new Map(state.incidents);
      let ended = state.ended;
      if (isOpen(incident)) incidents.set(incident.id, incident);
      else {
        ended = remember(state.ended, incident.id, incident.revision);
        if (!incidents.delete(incident.id)) return { ...state, ended };
      }
      // SLA alerts of an incident that ended or whose team is on scene have done their job.
      const slaAlerts =
        !isOpen(incident) || incident.onSceneAt !== null ? state.slaAlerts.filter((a) => a.incidentId !== incident.id) : state.slaAlerts;
      return { ...state, incidents, ended, slaAlerts };
    }
    case "team:upsert": {
      const teams = new Map(state.teams);
      teams.set(action.team.id, action.team);
      return { ...state, teams };
    }
    case "calls:snapshot": {
      // Ended calls still waiting for a decision are not in the server's active list: keep them.
      const calls = new Map([...state.calls].filter(([, c]) => c.endedAt !== null && belongsInIntake(c)));
      for (const call of action.calls) {
        if (state.callsGone.has(call.id)) continue;
        const merged = mergeCall(state.calls.get(call.id), call);
        if (belongsInIntake(merged)) calls.set(call.id, merged);
      }
      return { ...state, calls };
    }
    case "call:upsert": {
      const gone = state.callsGone.get(action.call.id);
      // A late copy of a call that already left (ended with its incident, or dismissed) stays gone.
      if (gone) return { ...state, callsGone: remember(state.callsGone, gone.id, mergeCall(gone, action.call)) };
      const before = state.calls.get(action.call.id);
      const merged = mergeCall(before, action.call);
      if (before && sameCall(before, merged)) return state;
      const calls = new Map(state.calls);
      let callsGone = state.callsGone;
      if (belongsInIntake(merged)) calls.set(merged.id, merged);
      else {
        calls.delete(merged.id);
        callsGone = remember(state.callsGone, merged.id, merged);
      }
      // A new ringing call pops the intake unless the dispatcher is busy with another call there.
      const popIntake =
        action.ringing &&
        !before &&
        merged.incidentId === null &&
        merged.endedAt === null &&
        can(state.role, "operate") &&
        (state.panel !== "intake" || state.selectedCallId === null || !state.calls.has(state.selectedCallId));
      return {
        ...state,
        calls,
        callsGone,
        ...(popIntake ? { panel: "intake" as const, selectedCallId: merged.id } : {}),
        ...(state.selectedCallId === merged.id && !calls.has(merged.id) ? { selectedCallId: null } : {}),
      };
    }
    case "call:dismiss": {
      const call = state.calls.get(action.id);
      if (!call) return state;
      const calls = new Map(state.calls);
      calls.delete(action.id);
      return {
        ...state,
        calls,
        callsGone: remember(state.callsGone, action.id, call),
        selectedCallId: state.selectedCallId === action.id ? null : state.selectedCallId,
      };
    }
    case "massEvents:snapshot":
      return { ...state, massEvents: new Map(action.massEvents.filter((m) => m.closedAt === null).map((m) => [m.id, m])) };
    case "massEvent:upsert": {
      const massEvents = new Map(state.massEvents);
      if (action.massEvent.closedAt === null) massEvents.set(action.massEvent.id, action.massEvent);
      else if (!massEvents.delete(action.massEvent.id)) return state;
      return { ...state, massEvents };
    }
    case "sla:alert": {
      const rest = state.slaAlerts.filter((a) => !(a.incidentId === action.alert.incidentId && a.kind === action.alert.kind));
      return { ...state, slaAlerts: [action.alert, ...rest].slice(0, MAX_SLA_ALERTS) };
    }
    case "sla:dismiss":
      return { ...state, slaAlerts: state.slaAlerts.filter((a) => a.incidentId !== action.incidentId) };
    case "select:incident":
      return {
        ...state,
        selectedIncidentId: action.id,
        ...(action.id !== null ? { panel: "incident" as const } : {}),
      };
    case "locate:incident":
      return {
        ...state,
        selectedIncidentId: action.id,
        panel: "incident",
        flyTo: { id: action.id, nonce: (state.flyTo?.nonce ?? 0) + 1 },
      };
    case "select:call":
      return { ...state, selectedCallId: action.id, ...(action.id !== null && can(state.role, "operate") ? { panel: "intake" as const } : {}) };
    case "panel":
      if (action.panel === "intake" && !can(state.role, "operate")) return state;
      return state.panel === action.panel ? state : { ...state, panel: action.panel };
    case "synced":
      return { ...state, syncGeneration: state.syncGeneration + 1 };
    case "entrapment:announced":
      return { ...state, entrapmentAlerts: state.entrapmentAlerts + 1 };
    case "muted":
      return { ...state, muted: action.muted };
    case "error": {
      if ((state.errors[action.key] ?? null) === action.message) return state;
      const errors = { ...state.errors };
      if (action.message === null) delete errors[action.key];
      else errors[action.key] = action.message;
      return { ...state, errors };
    }
  }
}

export const initialState: ConsoleState = {
  role: null,
  connection: "disconnected",
  config: null,
  districts: [],
  elevators: null,
  incidents: new Map(),
  ended: new Map(),
  teams: new Map(),
  errors: {},
  calls: new Map(),
  callsGone: new Map(),
  massEvents: new Map(),
  slaAlerts: [],
  selectedIncidentId: null,
  flyTo: null,
  selectedCallId: null,
  panel: "intake",
  syncGeneration: 0,
  entrapmentAlerts: 0,
  muted: readMuted(),
};

const MUTED_KEY = "lift96333.muted";
function readMuted(): boolean {
  try {
    return globalThis.localStorage?.getItem(MUTED_KEY) === "1";
  } catch {
    return false;
  }
}

let state = initialState;
const listeners = new Set<() => void>();

function dispatch(action: Action): void {
  const next = reduce(state, action);
  if (next === state) return;
  state = next;
  for (const l of listeners) l();
}

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function useConsole<T>(select: (s: ConsoleState) => T): T {
  return useSyncExternalStore(subscribe, () => select(state));
}

/** Read outside React (keyboard shortcuts, event handlers). */
export function getConsoleState(): ConsoleState {
  return state;
}

export function dismissError(key: ErrorKey): void {
  dispatch({ type: "error", key, message: null });
}

export const consoleActions = {
  selectIncident: (id: number | null) => dispatch({ type: "select:incident", id }),
  /** Select an incident and bring the map to it. */
  locateIncident: (id: number) => dispatch({ type: "locate:incident", id }),
  selectCall: (id: number | null) => dispatch({ type: "select:call", id }),
  showPanel: (panel: SidePanel) => dispatch({ type: "panel", panel }),
  dismissCall: (id: number) => dispatch({ type: "call:dismiss", id }),
  dismissSlaAlert: (incidentId: number) => dispatch({ type: "sla:dismiss", incidentId }),
  /** Apply a REST answer at once; the socket's copy of the same change arrives later and is idempotent. */
  upsertIncident: (incident: IncidentView) => dispatch({ type: "incident:upsert", incident }),
  upsertCall: (call: CallView) => dispatch({ type: "call:upsert", call }),
  setMuted: (muted: boolean) => {
    try {
      globalThis.localStorage?.setItem(MUTED_KEY, muted ? "1" : "0");
    } catch {
      // private mode: the choice lasts for this page only
    }
    dispatch({ type: "muted", muted });
  },
};

type Listener<T> = (value: T) => void;
function channel<T>() {
  const listeners = new Set<Listener<T>>();
  return {
    emit: (value: T) => {
      for (const l of listeners) l(value);
    },
    subscribe: (listener: Listener<T>) => {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
  };
}

/** Timeline entries as they are appended, for whichever view shows that incident. */
export const timelineEntries = channel<TimelineEventView & { incidentId: number }>();
/** Coalesced live elevator status batches from the devices. */
export const elevatorStatus = channel<ElevatorLiveView[]>();

async function load<T>(key: ErrorKey, fetcher: () => Promise<T>, apply: (value: T) => void): Promise<boolean> {
  try {
    apply(await fetcher());
    dispatch({ type: "error", key, message: null });
    return true;
  } catch (err) {
    dispatch({ type: "error", key, message: errorMessage(err) });
    return false;
  }
}

/** Map config, districts and elevator points: fetched once (and again on retry). */
export function loadStatic(): void {
  void load("config", api.clientConfig, (config) => dispatch({ type: "config", config })).then((ok) => {
    if (!ok && !state.config) dispatch({ type: "config", config: fallbackConfig });
  });
  void load("districts", api.districts, (districts) => dispatch({ type: "districts", districts }));
  void load("elevators", api.elevatorPoints, (elevators) => dispatch({ type: "elevators", elevators }));
}

export function retryFailed(): void {
  const failed = Object.keys(state.errors) as ErrorKey[];
  if (failed.includes("config") || failed.includes("districts") || failed.includes("elevators")) {
    if (failed.includes("config")) void load("config", api.clientConfig, (config) => dispatch({ type: "config", config }));
    if (failed.includes("districts")) void load("districts", api.districts, (districts) => dispatch({ type: "districts", districts }));
    if (failed.includes("elevators")) void load("elevators", api.elevatorPoints, (elevators) => dispatch({ type: "elevators", elevators }));
  }
  if (failed.some((k) => k === "incidents" || k === "teams" || k === "calls" || k === "massEvents")) void resync();
}

// Live events that arrive while a snapshot is in flight are replayed on top of it,
// so a snapshot taken just before an event cannot roll that event back.
let buffered: Action[] | null = null;
let resyncGeneration = 0;
let retryTimer: ReturnType<typeof setTimeout> | undefined;

function live(action: Action): void {
  buffered?.push(action);
  dispatch(action);
}

async function resync(): Promise<void> {
  const generation = ++resyncGeneration;
  clearTimeout(retryTimer);
  buffered = [];
  // Calls and mass events are the centre's (CITY_READERS): a company admin's console does not ask for them.
  const city = state.role !== null && CITY_READERS.includes(state.role);
  const results = await Promise.allSettled([
    api.openIncidents(),
    api.teams(),
    city ? api.activeCalls() : Promise.resolve([]),
    city ? api.openMassEvents() : Promise.resolve([]),
  ]);
  if (generation !== resyncGeneration) return;
  const pending = buffered;
  buffered = null;
  const [incidents, teams, calls, massEvents] = results;
  const apply = <T>(key: ErrorKey, result: PromiseSettledResult<T>, action: (value: T) => Action) => {
    if (result.status === "fulfilled") {
      dispatch(action(result.value));
      dispatch({ type: "error", key, message: null });
    } else {
      dispatch({ type: "error", key, message: errorMessage(result.reason) });
    }
  };
  apply("incidents", incidents, (value) => ({ type: "incidents:snapshot", incidents: value }));
  apply("teams", teams, (value) => ({ type: "teams:snapshot", teams: value }));
  apply("calls", calls, (value) => ({ type: "calls:snapshot", calls: value }));
  apply("massEvents", massEvents, (value) => ({ type: "massEvents:snapshot", massEvents: value }));
  for (const action of pending) dispatch(action);
  dispatch({ type: "synced" });
  if (results.some((r) => r.status === "rejected")) {
    retryTimer = setTimeout(() => {
      if (state.connection === "connected") void resync();
    }, 5000);
  }
}

/** A new entrapment (or an incident that turns out to be one) is announced once, loud unless muted. */
function announceIfNewEntrapment(incident: IncidentView): void {
  if (incident.kind !== "entrapment" || !isOpen(incident)) return;
  const before = state.incidents.get(incident.id);
  if (before?.kind === "entrapment") return;
  dispatch({ type: "entrapment:announced" });
  if (!state.muted) playEntrapmentAlert();
}

let socket: Socket<ServerToClientEvents, ClientToServerEvents> | null = null;

/** What the signed-in role may do in the console, mirroring the server's route rules. */
export function can(role: Role | null, what: "operate" | "readCity"): boolean {
  if (role === null) return false;
  return (what === "operate" ? OPERATORS : CITY_READERS).includes(role);
}

export function connectRealtime(role: Role): () => void {
  dispatch({ type: "role", role });
  if (socket) return () => {};
  const s: Socket<ServerToClientEvents, ClientToServerEvents> = io();
  socket = s;
  s.on("connect", () => {
    dispatch({ type: "connection", state: "connected" });
    // Connection-state recovery replayed what was missed during a short break: the state is whole.
    // After a long break or a server restart the session is gone, so everything is fetched again.
    if (!s.recovered) void resync();
  });
  s.on("disconnect", (reason) => {
    dispatch({ type: "connection", state: "disconnected" });
    // A server-side disconnect is not retried automatically by socket.io.
    if (reason === "io server disconnect") s.connect();
  });
  s.on("connect_error", () => dispatch({ type: "connection", state: "disconnected" }));
  s.on("incident:created", (incident) => {
    announceIfNewEntrapment(incident);
    live({ type: "incident:upsert", incident });
  });
  s.on("incident:updated", (incident) => {
    if (state.incidents.has(incident.id)) announceIfNewEntrapment(incident);
    live({ type: "incident:upsert", incident });
  });
  s.on("team:updated", (team) => live({ type: "team:upsert", team }));
  s.on("call:ringing", (call) => live({ type: "call:upsert", call, ringing: true }));
  s.on("call:answered", (call) => live({ type: "call:upsert", call }));
  s.on("call:ended", (call) => live({ type: "call:upsert", call }));
  s.on("call:updated", (call) => live({ type: "call:upsert", call }));
  s.on("mass-event:updated", (massEvent) => live({ type: "massEvent:upsert", massEvent }));
  s.on("sla:warning", (alert) => dispatch({ type: "sla:alert", alert }));
  s.on("sla:escalated", (alert) => dispatch({ type: "sla:alert", alert }));
  s.on("incident:timeline", (entry) => timelineEntries.emit(entry));
  s.on("elevator:status", (batch) => elevatorStatus.emit(batch));
  return () => {
    s.disconnect();
    socket = null;
  };
}
