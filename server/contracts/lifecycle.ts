/**
 * The incident state machine of docs/design.md, pure and shared: the server enforces it, the console offers
 * only the next steps it allows.
 * reported -> dispatched -> accepted -> en_route -> on_scene -> released -> closed,
 * with the side exits cancelled and false_alarm.
 */
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
export type IncidentStatus = (typeof incidentStatuses)[number];

export const terminalStatuses: readonly IncidentStatus[] = ["closed", "cancelled", "false_alarm"];
export const openStatuses: readonly IncidentStatus[] = incidentStatuses.filter((s) => !terminalStatuses.includes(s));

const next: Record<IncidentStatus, readonly IncidentStatus[]> = {
  // released straight from an early state: passengers got out before rescuers arrived (power back, staff).
  reported: ["dispatched", "released", "cancelled", "false_alarm"],
  // back to reported when every offer was declined or withdrawn and nobody is assigned.
  dispatched: ["accepted", "reported", "released", "cancelled", "false_alarm"],
  accepted: ["en_route", "dispatched", "released", "cancelled", "false_alarm"],
  en_route: ["on_scene", "dispatched", "released", "cancelled", "false_alarm"],
  on_scene: ["released", "false_alarm"],
  released: ["closed"],
  closed: [],
  cancelled: [],
  false_alarm: [],
};

/** Fault tickets have nobody to release: on_scene may close them directly. */
export function allowedNext(status: IncidentStatus, kind: "entrapment" | "fault" | "other"): IncidentStatus[] {
  const allowed = [...next[status]];
  if (kind !== "entrapment" && status === "on_scene") allowed.push("closed");
  return allowed;
}

export function isOpen(status: IncidentStatus): boolean {
  return openStatuses.includes(status);
}

export type TransitionResult =
  | { ok: true; from: IncidentStatus; to: IncidentStatus }
  | { ok: false; from: IncidentStatus; to: IncidentStatus; allowed: IncidentStatus[] };

export function checkTransition(
  from: IncidentStatus,
  to: IncidentStatus,
  kind: "entrapment" | "fault" | "other",
): TransitionResult {
  const allowed = allowedNext(from, kind);
  return allowed.includes(to) ? { ok: true, from, to } : { ok: false, from, to, allowed };
}
