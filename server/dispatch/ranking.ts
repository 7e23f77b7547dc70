import { distance as greatCircleKm } from "geokdbush";

export type TeamKind = "maintenance" | "rescue_station" | "fire";
export type TeamStatus = "available" | "offered" | "busy" | "off_duty" | "offline";

export interface TeamCandidate {
  id: number;
  kind: TeamKind;
  status: TeamStatus;
  maintenanceCompanyId: number | null;
  baseLat: number;
  baseLng: number;
  lat: number | null;
  lng: number | null;
  positionAt: Date | null;
}

export interface RankingOptions {
  now: Date;
  detourFactor: number;
  /** A live position older than this is not trusted; the team's base is used instead. */
  staleAfterMs: number;
}

export interface RankedTeam {
  teamId: number;
  tier: 1 | 2 | 3;
  distanceM: number;
  etaS: number;
  usedLivePosition: boolean;
}

/** Urban driving speed by hour in Asia/Shanghai (UTC+8, no DST): rush hours are slow. */
export function urbanSpeedKmh(at: Date): number {
  const hour = (at.getUTCHours() + 8) % 24;
  if ((hour >= 7 && hour < 9) || (hour >= 17 && hour < 19)) return 18;
  if (hour >= 22 || hour < 6) return 40;
  return 26;
}

export function tierOf(team: Pick<TeamCandidate, "kind">): 1 | 2 | 3 {
  return team.kind === "maintenance" ? 1 : team.kind === "rescue_station" ? 2 : 3;
}

/**
 * Straight-line arrival estimate: great-circle distance x detour factor at the hour's urban speed, from
 * the live position when fresh, else from the base. Sorted by tier, then estimate.
 */
export function rankTeams(
  target: { lat: number; lng: number },
  teams: readonly TeamCandidate[],
  options: RankingOptions,
): RankedTeam[] {
  const speedMs = (urbanSpeedKmh(options.now) * 1000) / 3600;
  const ranked = teams.map((team) => {
    const fresh =
      team.lat !== null &&
      team.lng !== null &&
      team.positionAt !== null &&
      options.now.getTime() - team.positionAt.getTime() <= options.staleAfterMs;
    const from = fresh ? { lat: team.lat!, lng: team.lng! } : { lat: team.baseLat, lng: team.baseLng };
    const distanceM = greatCircleKm(from.lng, from.lat, target.lng, target.lat) * 1000;
    return {
      teamId: team.id,
      tier: tierOf(team),
      distanceM: Math.round(distanceM),
      etaS: Math.round((distanceM * options.detourFactor) / speedMs),
      usedLivePosition: fresh,
    };
  });
  return ranked.sort((a, b) => a.tier - b.tier || a.etaS - b.etaS || a.teamId - b.teamId);
}

/**
 * The team to offer first: the contracted company's nearest available team; if it has none, the nearest
 * available rescue station; then the fire brigade.
 */
export function chooseTeam(
  target: { lat: number; lng: number },
  contractedCompanyId: number,
  teams: readonly TeamCandidate[],
  options: RankingOptions,
): RankedTeam | null {
  const eligible = teams.filter(
    (team) =>
      team.status === "available" &&
      (team.kind !== "maintenance" || team.maintenanceCompanyId === contractedCompanyId),
  );
  return rankTeams(target, eligible, options)[0] ?? null;
}
