import KDBush from "kdbush";
import { around } from "geokdbush";
import type { Point, TravelTimeEstimator } from "./estimator.ts";
import { rankingGroup, type TeamKind, type TeamStatus } from "./policy.ts";

/** What ranking needs of a team. */
export interface IndexedTeam {
  id: number;
  kind: TeamKind;
  status: TeamStatus;
  maintenanceCompanyId: number | null;
  baseLat: number;
  baseLng: number;
  lat: number | null;
  lng: number | null;
  positionAt: Date | null;
  /** Learned ratio of actual to estimated travel time (1 = no correction yet). */
  travelRatio: number;
}

export interface RankedCandidate {
  team: IndexedTeam;
  distanceM: number;
  etaS: number;
  usedLivePosition: boolean;
}

interface Group {
  ids: number[];
  index: KDBush | null;
  /** Earliest time a live position in this index goes stale and the base must be used instead. */
  rebuildAt: number;
  dirty: boolean;
}

/**
 * Teams in kd-trees, one per ranking group (each maintenance company, rescue stations, fire brigade), so
 * that ranking 10,000 teams looks at a handful of nearby ones instead of sorting all of them. A tree is
 * rebuilt lazily on the next query after a position change or when a live position goes stale.
 */
export class TeamIndex {
  private readonly groups = new Map<string, Group>();
  private readonly groupOf = new Map<number, string>();

  constructor(
    private readonly teams: ReadonlyMap<number, IndexedTeam>,
    private readonly staleAfterMs: number,
  ) {
    for (const team of teams.values()) this.add(team);
  }

  add(team: IndexedTeam): void {
    const key = rankingGroup(team);
    this.groupOf.set(team.id, key);
    let group = this.groups.get(key);
    if (!group) this.groups.set(key, (group = { ids: [], index: null, rebuildAt: Infinity, dirty: true }));
    group.ids.push(team.id);
    group.dirty = true;
  }

  /** A team's position changed: its tree is rebuilt on the next query. */
  touch(teamId: number): void {
    const key = this.groupOf.get(teamId);
    const group = key ? this.groups.get(key) : undefined;
    if (group) group.dirty = true;
  }

  isFresh(team: IndexedTeam, now: number): boolean {
    return team.lat !== null && team.lng !== null && team.positionAt !== null && now - team.positionAt.getTime() <= this.staleAfterMs;
  }

  positionOf(team: IndexedTeam, now: number): Point & { live: boolean } {
    return this.isFresh(team, now) ? { lat: team.lat!, lng: team.lng!, live: true } : { lat: team.baseLat, lng: team.baseLng, live: false };
  }

  private tree(key: string, now: number): { group: Group; index: KDBush } | null {
    const group = this.groups.get(key);
    if (!group || group.ids.length === 0) return null;
    if (group.dirty || !group.index || now >= group.rebuildAt) {
      const index = new KDBush(group.ids.length);
      let rebuildAt = Infinity;
      for (const id of group.ids) {
        const team = this.teams.get(id)!;
        const at = this.positionOf(team, now);
        index.add(at.lng, at.lat);
        if (at.live) rebuildAt = Math.min(rebuildAt, team.positionAt!.getTime() + this.staleAfterMs + 1);
      }
      index.finish();
      Object.assign(group, { index, rebuildAt, dirty: false });
    }
    return { group, index: group.index! };
  }

  /**
   * The `limit` teams of a group with the smallest estimated arrival that pass `accept`. Exact, not a
   * heuristic: the nearest teams by distance give an upper bound on the answer's arrival time, and the
   * estimator's lower bound turns it into a search radius that no better team can lie outside of.
   */
  nearest(
    key: string,
    target: Point,
    context: { at: Date; detourFactor: number },
    estimator: TravelTimeEstimator,
    accept: (team: IndexedTeam) => boolean,
    limit = 1,
  ): RankedCandidate[] {
    const now = context.at.getTime();
    const built = this.tree(key, now);
    if (!built) return [];
    const { group, index } = built;
    const predicate = (i: number) => accept(this.teams.get(group.ids[i]!)!);
    const score = (i: number): RankedCandidate => {
      const team = this.teams.get(group.ids[i]!)!;
      const from = this.positionOf(team, now);
      const estimate = estimator.estimate(from, target, { ...context, travelRatio: team.travelRatio });
      return { team, ...estimate, usedLivePosition: from.live };
    };
    const byEta = (a: RankedCandidate, b: RankedCandidate) => a.etaS - b.etaS || a.team.id - b.team.id;
    const probe = Math.max(limit, 4);
    const first = around(index, target.lng, target.lat, probe, Infinity, predicate).map(score).sort(byEta);
    if (first.length < probe) return first.slice(0, limit);
    const worstWanted = first[Math.min(limit, first.length) - 1]!.etaS;
    const radiusKm = estimator.reachableM(worstWanted, context) / 1000;
    const all = around(index, target.lng, target.lat, Infinity, radiusKm, predicate).map(score).sort(byEta);
    return (all.length >= first.length ? all : first).slice(0, limit);
  }
}
