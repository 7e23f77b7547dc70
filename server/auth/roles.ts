/** The five kinds of account (prisma `Role`). */
export const roles = ["dispatcher", "rescuer", "supervisor", "company_admin", "admin"] as const;
export type Role = (typeof roles)[number];

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

// Named rule sets, so routes read as policy rather than lists.
export const ALL: readonly Role[] = roles;
/** Everyone who reads the city-wide operational picture (company admins are scoped by the route). */
export const READERS: readonly Role[] = ["dispatcher", "supervisor", "company_admin", "admin"];
/** Operational changes at the centre: the supervisor reads everything and changes nothing. */
/** The centre and the regulator: city-wide reads without company scoping. */
export const CITY_READERS: readonly Role[] = ["dispatcher", "supervisor", "admin"];
export const OPERATORS: readonly Role[] = ["dispatcher", "admin"];
/** Operational changes a rescue team makes for itself (scoped to its own team by the route). */
export const FIELD: readonly Role[] = ["dispatcher", "rescuer", "admin"];
export const ADMINS: readonly Role[] = ["admin"];
export const AUDITORS: readonly Role[] = ["supervisor", "admin"];

/** Roles that see callers' phone numbers in full; everyone else gets them masked. */
export const SEES_PHONE_NUMBERS: readonly Role[] = ["dispatcher", "admin"];

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
