import type { IncidentStatus } from "../contracts/lifecycle.ts";

// The state machine itself lives in the contracts, where the console reads it too.
export * from "../contracts/lifecycle.ts";

/** Timestamp column set the first time an incident enters a status. */
export const milestoneColumn = {
  dispatched: "dispatchedAt",
  accepted: "acceptedAt",
  en_route: "enRouteAt",
  on_scene: "onSceneAt",
  released: "releasedAt",
  closed: "closedAt",
  cancelled: "closedAt",
  false_alarm: "closedAt",
} as const satisfies Partial<Record<IncidentStatus, string>>;
