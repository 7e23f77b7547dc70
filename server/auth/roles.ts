import type { Role } from "../contracts/roles.ts";

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

const PERSONAL_KEYS = new Set(["callerNumber"]);

/** A copy of a response with every caller number masked (deep). */
export function maskPersonal<T>(value: T): T {
  if (Array.isArray(value)) return value.map((v) => maskPersonal(v)) as T;
  if (value && typeof value === "object" && !(value instanceof Date)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      out[k] = PERSONAL_KEYS.has(k) && typeof v === "string" ? maskPhone(v) : maskPersonal(v);
    }
    return out as T;
  }
  return value;
}
