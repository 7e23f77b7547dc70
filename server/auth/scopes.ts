import type { SessionUser } from "./roles.ts";
import type { Actor } from "../incidents/repository/writes.ts";
import type { AccessRepository } from "./repository.ts";
import { scopeOf, type ActorScope } from "./actor-scope.ts";

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
    elevator: check(access.elevators),
  };
}

export type AccessChecks = ReturnType<typeof accessChecks>;

/** The timeline's "who" for a signed-in user. */
export const actorOfUser = (user: SessionUser): Actor => ({ type: user.role === "rescuer" ? "team" : "user", id: user.username });
