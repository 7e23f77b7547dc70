import { alarmCodes, type AlarmCode } from "../devices/protocol.ts";

export type AlarmSeverity = "critical" | "major" | "minor" | "warning";

/**
 * Default handling from docs/protocol.md's alarm catalogue:
 * - entrapment: open an entrapment incident and dispatch at once;
 * - verify_entrapment: open an entrapment incident; a dispatcher reaches the passenger before dispatching;
 * - incident: open an incident and dispatch (entrapment when passengers are in the car);
 * - incident_if_passengers: an entrapment incident with passengers, else a fault ticket;
 * - fault_ticket: a fault incident for the maintenance company, no rescue dispatch;
 * - record: stored and shown only.
 */
export type AlarmHandling =
  | "entrapment"
  | "verify_entrapment"
  | "incident"
  | "incident_if_passengers"
  | "fault_ticket"
  | "record";

export interface CatalogueEntry {
  zh: string;
  severity: AlarmSeverity;
  handling: AlarmHandling;
}

export const alarmCatalogue: Record<AlarmCode, CatalogueEntry> = {
  trapped: { zh: "困人", severity: "critical", handling: "entrapment" },
  alarm_button: { zh: "轿厢紧急报警按钮", severity: "critical", handling: "verify_entrapment" },
  stopped_outside_door_zone: { zh: "非平层停梯", severity: "major", handling: "incident_if_passengers" },
  door_open_while_moving: { zh: "运行中开门", severity: "critical", handling: "incident" },
  unintended_movement: { zh: "轿厢意外移动", severity: "critical", handling: "incident" },
  overrun_top: { zh: "冲顶", severity: "critical", handling: "incident" },
  overrun_bottom: { zh: "蹲底", severity: "critical", handling: "incident" },
  overspeed: { zh: "超速", severity: "critical", handling: "incident" },
  safety_circuit_open: { zh: "安全回路断路", severity: "major", handling: "fault_ticket" },
  power_failure: { zh: "停电", severity: "major", handling: "incident_if_passengers" },
  door_fault: { zh: "门故障", severity: "minor", handling: "fault_ticket" },
  ebike_in_car: { zh: "电动车入梯", severity: "warning", handling: "record" },
};

export function isKnownAlarmCode(code: string): code is AlarmCode {
  return (alarmCodes as readonly string[]).includes(code);
}

export function classifyAlarm(rawCode: string): { code: AlarmCode | "unknown"; entry: CatalogueEntry } {
  if (isKnownAlarmCode(rawCode)) return { code: rawCode, entry: alarmCatalogue[rawCode] };
  return { code: "unknown", entry: { zh: "未知", severity: "warning", handling: "record" } };
}

export interface IncidentDecision {
  kind: "entrapment" | "fault";
  autoDispatch: boolean;
}

/** What a newly raised alarm asks of the incident side, or null when it is only recorded. */
export function incidentForAlarm(handling: AlarmHandling, passengers: boolean | undefined): IncidentDecision | null {
  switch (handling) {
    case "entrapment":
      return { kind: "entrapment", autoDispatch: true };
    case "verify_entrapment":
      return { kind: "entrapment", autoDispatch: false };
    case "incident":
      return { kind: passengers ? "entrapment" : "fault", autoDispatch: true };
    case "incident_if_passengers":
      return passengers ? { kind: "entrapment", autoDispatch: true } : { kind: "fault", autoDispatch: false };
    case "fault_ticket":
      return { kind: "fault", autoDispatch: false };
    case "record":
      return null;
  }
}

export interface StoredAlarmState {
  active: boolean;
}

export type AlarmDecision =
  | { action: "create" }
  | { action: "repeat" }
  | { action: "clear" }
  | { action: "clear_after_clear" }
  | { action: "clear_unknown" }
  | { action: "raise_after_clear" };

/**
 * One alarm per (device, alarmId): a repeat of a raised id is a duplicate, a cleared message ends it.
 * Every outcome is still acknowledged to the device once it is stored, so it stops repeating.
 */
export function decideAlarm(existing: StoredAlarmState | null, state: "raised" | "cleared"): AlarmDecision {
  if (!existing) return state === "raised" ? { action: "create" } : { action: "clear_unknown" };
  if (state === "raised") return existing.active ? { action: "repeat" } : { action: "raise_after_clear" };
  return existing.active ? { action: "clear" } : { action: "clear_after_clear" };
}

export interface FlapPolicy {
  /** Raise/clear cycles of the same (device, code) within windowMs that make an alarm flapping. */
  cycles: number;
  windowMs: number;
}

export const defaultFlapPolicy: FlapPolicy = { cycles: 3, windowMs: 5 * 60_000 };

/**
 * A new alarmId for a (device, code) that keeps being raised and cleared is one flapping alarm, not a
 * new alarm (and not a new incident) each time: a sensor on the edge of its threshold says one thing.
 * - `new`: store a row of its own;
 * - `start_flapping`: this raise completes `cycles` within the window; fold it into the latest row and mark it;
 * - `fold`: the latest row already flaps and was raised within the window; fold into it.
 */
export function decideFlap(
  input: {
    latest: { flapping: boolean; lastRaisedAt: Date | null; receivedAt: Date } | null;
    clearedInWindow: number;
    now: Date;
  },
  policy: FlapPolicy,
): "new" | "start_flapping" | "fold" {
  const { latest, now } = input;
  if (!latest) return "new";
  const since = now.getTime() - policy.windowMs;
  if (latest.flapping && (latest.lastRaisedAt ?? latest.receivedAt).getTime() >= since) return "fold";
  if (policy.cycles >= 2 && input.clearedInWindow >= policy.cycles - 1) return "start_flapping";
  return "new";
}
