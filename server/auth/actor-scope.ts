import type { SessionUser } from "./roles.ts";

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
