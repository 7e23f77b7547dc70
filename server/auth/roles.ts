import { CITY_READERS, SEES_PHONE_NUMBERS, type Role } from "../contracts/roles.ts";

// The role list and the named rule sets are shared with the console: one definition, in the contracts.
export { roles, ALL, READERS, CITY_READERS, OPERATORS, FIELD, ADMINS, AUDITORS, SEES_PHONE_NUMBERS, type Role } from "../contracts/roles.ts";

/** The signed-in user a request or socket acts as. */
export interface SessionUser {
  id: number;
  username: string;
  displayName: string;
  role: Role;
  maintenanceCompanyId: number | null;
  teamId: number | null;
  sessionId: number;
}

/**
 * Who may call a route: `public` (anyone, no session), `machine` (signed machine callers such as the
 * telephony webhook; a session grants nothing), or the roles allowed.
 */
export type Access = "public" | "machine" | readonly Role[];

/** 13812341234 -> 138****1234. */
export function maskPhone(value: string): string {
  const digits = value.replace(/^\+/, "");
  if (digits.length < 8) return "****";
  return `${value.slice(0, value.length - digits.length)}${digits.slice(0, 3)}****${digits.slice(-4)}`;
}

/** What of a call a role may see: all of it, the number masked, or nothing personal at all. */
export type PersonalView = "full" | "masked" | "none";

/**
 * Callers' numbers, call notes and recording references belong to the centre: dispatchers and admins see
 * them, the regulator sees numbers masked (it counts calls, it does not ring back), and the field (rescuers,
 * maintenance companies) sees none of it: a crew that needs to reach the passenger goes through the centre.
 */
export function personalViewOf(role: Role): PersonalView {
  if (SEES_PHONE_NUMBERS.includes(role)) return "full";
  return CITY_READERS.includes(role) ? "masked" : "none";
}

const HIDDEN = "****";

function redact<T>(value: T, view: Exclude<PersonalView, "full">): T {
  if (Array.isArray(value)) return value.map((v) => redact(v, view)) as T;
  if (value && typeof value === "object" && !(value instanceof Date)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      if (k === "callerNumber" && typeof v === "string") out[k] = view === "masked" ? maskPhone(v) : HIDDEN;
      else if (view === "none" && (k === "recordingRef" || k === "notes") && v !== undefined) out[k] = null;
      else out[k] = redact(v, view);
    }
    return out as T;
  }
  return value;
}

/** A copy of a response with every caller number masked (deep). */
export function maskPersonal<T>(value: T): T {
  return redact(value, "masked");
}

/** A response as the role may see it (deep): see personalViewOf. */
export function presentPersonal<T>(value: T, view: PersonalView): T {
  return view === "full" ? value : redact(value, view);
}
