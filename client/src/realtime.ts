import { useSyncExternalStore } from "react";
import { io, type Socket } from "socket.io-client";
import type {
  ClientToServerEvents,
  DistrictView,
  ElevatorPoints,
  IncidentView,
  ServerToClientEvents,
  TeamView,
} from "../../server/contracts/index.ts";
import { api, errorMessage, fallbackConfig, type ClientConfig } from "./api.ts";

export type ConnectionState = "connected" | "disconnected";
export type ErrorKey = "config" | "districts" | "elevators" | "teams" | "incidents";

export interface ConsoleState {
  connection: ConnectionState;
  config: ClientConfig | null;
  districts: readonly DistrictView[];
  elevators: ElevatorPoints | null;
  incidents: ReadonlyMap<number, IncidentView>;
  teams: ReadonlyMap<number, TeamView>;
  errors: Readonly<Partial<Record<ErrorKey, string>>>;
}

type Action =
  | { type: "connection"; state: ConnectionState }
  | { type: "config"; config: ClientConfig }
  | { type: "districts"; districts: DistrictView[] }
  | { type: "elevators"; elevators: ElevatorPoints }
  | { type: "incidents:snapshot"; incidents: IncidentView[] }
  | { type: "teams:snapshot"; teams: TeamView[] }
  | { type: "incident:upsert"; incident: IncidentView }
  | { type: "team:upsert"; team: TeamView }
  | { type: "error"; key: ErrorKey; message: string | null };

const terminalStatuses: ReadonlySet<IncidentView["status"]> = new Set(["closed", "cancelled", "false_alarm"]);

export function isOpen(incident: IncidentView): boolean {
  return !terminalStatuses.has(incident.status);
}

export function reduce(state: ConsoleState, action: Action): ConsoleState {
  switch (action.type) {
    case "connection":
      return state.connection === action.state ? state : { ...state, connection: action.state };
    case "config":
      return { ...state, config: action.config };
    case "districts":
      return { ...state, districts: action.districts };
    case "elevators":
      return { ...state, elevators: action.elevators };
    case "incidents:snapshot":
      return { ...state, incidents: new Map(action.incidents.filter(isOpen).map((i) => [i.id, i])) };
    case "teams:snapshot":
      return { ...state, teams: new Map(action.teams.map((t) => [t.id, t])) };
    case "incident:upsert": {
      const incidents = new Map(state.incidents);
      if (isOpen(action.incident)) incidents.set(action.incident.id, action.incident);
      else if (!incidents.delete(action.incident.id)) return state;
      return { ...state, incidents };
    }
    case "team:upsert": {
      const teams = new Map(state.teams);
      teams.set(action.team.id, action.team);
      return { ...state, teams };
    }
    case "error": {
      if ((state.errors[action.key] ?? null) === action.message) return state;
      const errors = { ...state.errors };
      if (action.message === null) delete errors[action.key];
      else errors[action.key] = action.message;
      return { ...state, errors };
    }
  }
}

const initialState: ConsoleState = {
  connection: "disconnected",
  config: null,
  districts: [],
  elevators: null,
  incidents: new Map(),
  teams: new Map(),
  errors: {},
};

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

export function dismissError(key: ErrorKey): void {
  dispatch({ type: "error", key, message: null });
}

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
  if (failed.includes("incidents") || failed.includes("teams")) void resync();
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
  const [incidents, teams] = await Promise.allSettled([api.openIncidents(), api.teams()]);
  if (generation !== resyncGeneration) return;
  const pending = buffered;
  buffered = null;
  if (incidents.status === "fulfilled") {
    dispatch({ type: "incidents:snapshot", incidents: incidents.value });
    dispatch({ type: "error", key: "incidents", message: null });
  } else {
    dispatch({ type: "error", key: "incidents", message: errorMessage(incidents.reason) });
  }
  if (teams.status === "fulfilled") {
    dispatch({ type: "teams:snapshot", teams: teams.value });
    dispatch({ type: "error", key: "teams", message: null });
  } else {
    dispatch({ type: "error", key: "teams", message: errorMessage(teams.reason) });
  }
  for (const action of pending) dispatch(action);
  if (incidents.status === "rejected" || teams.status === "rejected") {
    retryTimer = setTimeout(() => {
      if (state.connection === "connected") void resync();
    }, 5000);
  }
}

let socket: Socket<ServerToClientEvents, ClientToServerEvents> | null = null;

export function connectRealtime(): () => void {
  if (socket) return () => {};
  const s: Socket<ServerToClientEvents, ClientToServerEvents> = io();
  socket = s;
  s.on("connect", () => {
    dispatch({ type: "connection", state: "connected" });
    void resync();
  });
  s.on("disconnect", (reason) => {
    dispatch({ type: "connection", state: "disconnected" });
    // A server-side disconnect is not retried automatically by socket.io.
    if (reason === "io server disconnect") s.connect();
  });
  s.on("connect_error", () => dispatch({ type: "connection", state: "disconnected" }));
  s.on("incident:created", (incident) => live({ type: "incident:upsert", incident }));
  s.on("incident:updated", (incident) => live({ type: "incident:upsert", incident }));
  s.on("team:updated", (team) => live({ type: "team:upsert", team }));
  return () => {
    s.disconnect();
    socket = null;
  };
}
