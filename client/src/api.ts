import type { DistrictView, ElevatorPoints, IncidentView, TeamView } from "../../server/contracts/index.ts";

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

export class ApiError extends Error {
  constructor(
    readonly path: string,
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

async function getJson<T>(path: string, signal?: AbortSignal): Promise<T> {
  let res: Response;
  try {
    res = await fetch(path, { headers: { Accept: "application/json" }, signal });
  } catch (err) {
    if (err instanceof DOMException && err.name === "AbortError") throw err;
    throw new ApiError(path, 0, err instanceof Error ? err.message : String(err));
  }
  if (!res.ok) {
    let message = `HTTP ${res.status}`;
    try {
      const body = (await res.json()) as { error?: { message?: string } };
      if (body.error?.message) message = `HTTP ${res.status}: ${body.error.message}`;
    } catch {
      // non-JSON error body: keep the status line
    }
    throw new ApiError(path, res.status, message);
  }
  return (await res.json()) as T;
}

export function errorMessage(err: unknown): string {
  if (err instanceof ApiError) return `${err.path} — ${err.message}`;
  return err instanceof Error ? err.message : String(err);
}

export const api = {
  clientConfig: (signal?: AbortSignal) => getJson<ClientConfig>("/api/client-config", signal),
  districts: (signal?: AbortSignal) => getJson<DistrictView[]>("/api/districts", signal),
  elevatorPoints: (signal?: AbortSignal) => getJson<ElevatorPoints>("/api/elevators/points", signal),
  teams: (signal?: AbortSignal) => getJson<TeamView[]>("/api/teams", signal),
  openIncidents: (signal?: AbortSignal) => getJson<IncidentView[]>("/api/incidents?open=true", signal),
};
