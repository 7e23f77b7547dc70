import type { TravelTimeEstimator } from "./estimator.ts";
import { mayTakeAnother, rankingGroupOfTier, type Tier, type TierPolicy } from "./policy.ts";
import type { IndexedTeam, RankedCandidate, TeamIndex } from "./team-index.ts";

/** A team as the engine ranks it: its place in the index plus the sites of its active offers. */
export interface RankableTeam extends IndexedTeam {
  /** Active offers (offered or accepted) of this team: offer id -> site id. */
  activeSites: ReadonlyMap<number, number>;
}

/** Where an incident is, and what decides who may serve it. */
export interface DispatchTarget {
  lat: number;
  lng: number;
  siteId: number;
  /** The elevator's contracted maintenance company (tier 1). */
  companyId: number;
  /** Road distance / great-circle distance of the incident's district. */
  detourFactor: number;
}

export interface RankingContext {
  at: Date;
  estimator: TravelTimeEstimator;
  policy: TierPolicy;
  /** Teams not to consider (already offered this incident, or being booked right now). */
  exclude: ReadonlySet<number>;
  limit?: number;
  /** Rank every team of the tier whatever its status (a dispatcher looking at the whole board). */
  anyStatus?: boolean;
}

/**
 * May the engine book this team for a lift at `siteId`? A free team always; a team on a job only for
 * another lift of the same site, up to the policy's limit (a power cut traps several cars of one building).
 */
export function isBookable(team: RankableTeam, siteId: number, policy: TierPolicy): boolean {
  if (team.status === "available") return true;
  if (team.status !== "offered" && team.status !== "busy") return false;
  return policy.sameSiteMax > 1 && mayTakeAnother([...team.activeSites.values()], siteId, policy);
}

/**
 * The best teams of one tier for a target, by estimated arrival (ties by team id). This is the engine's
 * one ranking: automatic offers, escalations, the dispatcher's candidate list and the tests all use it.
 */
export function rankTier(index: TeamIndex, target: DispatchTarget, tier: Tier, context: RankingContext): RankedCandidate[] {
  const { exclude, policy } = context;
  const accept = context.anyStatus
    ? (team: IndexedTeam) => !exclude.has(team.id)
    : (team: IndexedTeam) => !exclude.has(team.id) && isBookable(team as RankableTeam, target.siteId, policy);
  return index.nearest(
    rankingGroupOfTier(tier, target.companyId),
    target,
    { at: context.at, detourFactor: target.detourFactor },
    context.estimator,
    accept,
    context.limit ?? 1,
  );
}

/** The engine's choice among `tiers`, tried in order: the best bookable team of the first tier that has one. */
export function chooseTeam(
  index: TeamIndex,
  target: DispatchTarget,
  tiers: readonly Tier[],
  context: Omit<RankingContext, "limit" | "anyStatus">,
): { tier: Tier; candidate: RankedCandidate } | null {
  for (const tier of tiers) {
    const [candidate] = rankTier(index, target, tier, { ...context, limit: 1 });
    if (candidate) return { tier, candidate };
  }
  return null;
}
