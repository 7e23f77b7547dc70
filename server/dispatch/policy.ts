import type { teamKinds, teamStatuses } from "../contracts/index.ts";

export type TeamKind = (typeof teamKinds)[number];
export type TeamStatus = (typeof teamStatuses)[number];
export type Tier = 1 | 2 | 3;

/**
 * Which teams may be offered an incident, pure. Tier 1 is the elevator's contracted maintenance company,
 * tier 2 the rescue stations, tier 3 the fire brigade (TSG T5002 and the city's three-tier scheme).
 */
export interface TierPolicy {
  /** Tiers in the order they are tried; a city may drop one (e.g. no fire brigade for faults). */
  order: readonly Tier[];
  /** Alert the best team of every tier together (Guangzhou-style); tiers after the first are backups. */
  allTiersAtOnce: boolean;
  /**
   * A team already sent to a site may take up to this many elevators of that same site at once
   * (a power cut traps people in several cars of one building). 1 = never book a team twice.
   */
  sameSiteMax: number;
}

export const defaultTierPolicy: TierPolicy = { order: [1, 2, 3], allTiersAtOnce: false, sameSiteMax: 3 };

/** The one mapping between tiers and the kinds of team that serve them. */
const KIND_OF_TIER = { 1: "maintenance", 2: "rescue_station", 3: "fire" } as const satisfies Record<Tier, TeamKind>;

export function tierOfKind(kind: TeamKind): Tier {
  return kind === KIND_OF_TIER[1] ? 1 : kind === KIND_OF_TIER[2] ? 2 : 3;
}

export function kindOfTier(tier: Tier): TeamKind {
  return KIND_OF_TIER[tier];
}

/**
 * The pool a team is ranked in: each maintenance company's own teams (tier 1 serves only its contracted
 * lifts), all rescue stations, all fire stations.
 */
export function rankingGroup(team: { kind: TeamKind; maintenanceCompanyId: number | null }): string {
  return team.kind === "maintenance" ? `c${team.maintenanceCompanyId}` : team.kind;
}

/** The pool to search for a tier of an elevator maintained by `contractedCompanyId`. */
export function rankingGroupOfTier(tier: Tier, contractedCompanyId: number): string {
  return rankingGroup({ kind: kindOfTier(tier), maintenanceCompanyId: contractedCompanyId });
}

/** The tiers to try for a first offer, or for an escalation past `aboveTier`. */
export function tiersToTry(policy: TierPolicy, options: { aboveTier?: number } = {}): Tier[] {
  const above = options.aboveTier ?? 0;
  return policy.order.filter((tier) => tier > above);
}

/**
 * May a team that already holds `activeSiteIds` (one entry per active offer) take one more elevator at
 * `siteId`? Only at the same site, and only up to the policy's limit.
 */
export function mayTakeAnother(activeSiteIds: readonly number[], siteId: number, policy: TierPolicy): boolean {
  if (activeSiteIds.length === 0) return true;
  if (activeSiteIds.some((id) => id !== siteId)) return false;
  return activeSiteIds.length < policy.sameSiteMax;
}
