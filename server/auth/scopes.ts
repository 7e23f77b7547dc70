import type { SessionUser } from "./roles.ts";
import type { Actor } from "../incidents/repository/writes.ts";
import type { AccessRepository } from "./repository.ts";

/**
 * What an actor may see, derived once from the signed-in user and handed to repositories, which turn it
 * into a WHERE clause. Filtering inside the query (before ORDER BY and LIMIT) is the point: a filter
 * applied to an already limited page drops rows the actor owns and makes later pages unreachable.
 * `nothing` is an account whose role needs a company or team that it lacks: it sees no row at all
 * rather than falling back to a wider view.
 */
export type ActorScope =
  | { kind: "centre" }
  | { kind: "company"; companyId: number }
  | { kind: "team"; teamId: number }
  | { kind: "nothing" };

type ScopedUser = Pick<SessionUser, "role" | "maintenanceCompanyId" | "teamId">;

export function scopeOf(user: ScopedUser): ActorScope {
  switch (user.role) {
    case "company_admin":
      return user.maintenanceCompanyId === null ? { kind: "nothing" } : { kind: "company", companyId: user.maintenanceCompanyId };
    case "rescuer":
      return user.teamId === null ? { kind: "nothing" } : { kind: "team", teamId: user.teamId };
    case "dispatcher":
    case "supervisor":
    case "admin":
      return { kind: "centre" };
  }
}

/**
 * Whether a team is listed to the actor: rescuers read every crew (they coordinate backup with the
 * others), a company admin only its own company's, an account without its company none. The teams list
 * is the dispatch engine's in-memory state, so this one is a predicate rather than SQL.
 */
export function teamListedTo(scope: ActorScope, team: { maintenanceCompanyId: number | null }): boolean {
  if (scope.kind === "company") return team.maintenanceCompanyId === scope.companyId;
  return scope.kind !== "nothing";
}

/**
 * Per-resource checks for the routes' `scope` hook (ApiRouter answers 404 when one fails, so a caller
 * learns nothing about resources outside its scope). Each asks the access repository, whose queries put
 * the scope in the WHERE clause like the lists do.
 */
export function accessChecks(access: AccessRepository) {
  type Query = (scope: ActorScope, ids: readonly number[]) => Promise<Set<number>>;
  // The centre reaches everything: no round trip, and the handler answers 404 for an id that does not exist.
  const check = (query: Query) => async (user: SessionUser, id: number) => {
    const scope = scopeOf(user);
    return scope.kind === "centre" || (await query(scope, [id])).has(id);
  };
  return {
    incident: check(access.incidents),
    /** An offer is a rescuer's to answer only when it was made to the rescuer's own team. */
    offer: check(access.offers),
    team: check(access.teams),
  };
}

export type AccessChecks = ReturnType<typeof accessChecks>;

/** The timeline's "who" for a signed-in user. */
export const actorOfUser = (user: SessionUser): Actor => ({ type: user.role === "rescuer" ? "team" : "user", id: user.username });
