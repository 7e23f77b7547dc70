/**
 * The five kinds of account (prisma `Role`) and the named rule sets routes declare as their access.
 * Shared: the server enforces them, the console hides what a role may not do with the same lists.
 */
export const roles = ["dispatcher", "rescuer", "supervisor", "company_admin", "admin"] as const;
export type Role = (typeof roles)[number];

// Named rule sets, so routes read as policy rather than lists.
export const ALL: readonly Role[] = roles;
/** Everyone who reads the city-wide operational picture (company admins are scoped by the route). */
export const READERS: readonly Role[] = ["dispatcher", "supervisor", "company_admin", "admin"];
/** The centre and the regulator: city-wide reads without company scoping. */
export const CITY_READERS: readonly Role[] = ["dispatcher", "supervisor", "admin"];
/** Operational changes at the centre: the supervisor reads everything and changes nothing. */
export const OPERATORS: readonly Role[] = ["dispatcher", "admin"];
/** Operational changes a rescue team makes for itself (scoped to its own team by the route). */
export const FIELD: readonly Role[] = ["dispatcher", "rescuer", "admin"];
export const ADMINS: readonly Role[] = ["admin"];
export const AUDITORS: readonly Role[] = ["supervisor", "admin"];

/** Roles that see callers' phone numbers in full; everyone else gets them masked. */
export const SEES_PHONE_NUMBERS: readonly Role[] = ["dispatcher", "admin"];

/**
 * What a rescuer may do to its own team's job beyond answering the offer, departing and arriving by
 * position: report the passengers freed, and record notes and trapped/injured counts from the scene.
 * Cancelling, false alarms, closing, sending a job back and confirming an arrival without a position are
 * the centre's decisions. The console and the field app hide what is not listed here.
 */
export const RESCUER_TRANSITIONS = ["released"] as const;
export const RESCUER_STEPS = ["note", "counts"] as const;
