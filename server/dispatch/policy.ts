import type { TeamKind } from "./ranking.ts";

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

export function tierOfKind(kind: TeamKind): Tier {
  return kind === "maintenance" ? 1 : kind === "rescue_station" ? 2 : 3;
}

/** The tiers to try for a first offer, or for an escalation past `aboveTier`. */
export function tiersToTry(policy: TierPolicy, options: { aboveTier?: number } = {}): Tier[] {
  const above = options.aboveTier ?? 0;
  return policy.order.filter((tier) => tier > above);
}

/** Whether a team of `kind` may serve an elevator maintained by `contractedCompanyId` at all. */
export function eligibleForTier(
  team: { kind: TeamKind; maintenanceCompanyId: number | null },
  tier: Tier,
  contractedCompanyId: number,
): boolean {
  if (tierOfKind(team.kind) !== tier) return false;
  return tier !== 1 || team.maintenanceCompanyId === contractedCompanyId;
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
