import type { TeamView } from "../contracts/index.ts";
import { errors } from "../platform/errors.ts";
import type { Transactional } from "../platform/outbox/unit-of-work.ts";
import type { TravelTimeEstimator } from "./estimator.ts";
import type { TeamStatus, Tier, TierPolicy } from "./policy.ts";
import { rankTier, type DispatchTarget, type RankableTeam } from "./ranking.ts";
import type { DispatchStore, TeamRow } from "./repository.ts";
import { TeamIndex, type RankedCandidate } from "./team-index.ts";

export interface LiveTeam extends RankableTeam {
  name: string;
  phone: string;
  organisation: string;
  travelSamples: number;
  activeSites: Map<number, number>;
}

/** What a committed change did to a team, applied to the in-memory board after the commit. */
export interface TeamChange {
  id: number;
  status?: TeamStatus;
  /** [offer id, site id] */
  addOffer?: [number, number];
  dropOffer?: number;
  position?: { lat: number; lng: number; at: Date };
  travel?: { ratio: number; samples: number };
}

export interface TeamBoardOptions {
  staleAfterMs: number;
  policy: TierPolicy;
  estimator: TravelTimeEstimator;
  clock: () => Date;
}

/**
 * Team state in memory (rebuilt from the database at start) so ranking never waits on a query. The
 * database stays the state of record: every change is written first (by whoever books, answers or
 * moves a team) and applied here after its commit.
 */
export class TeamBoard {
  private readonly teams = new Map<number, LiveTeam>();
  private index: TeamIndex;
  /** Teams being booked by a transaction of this process: keeps concurrent dispatches off the same team. */
  readonly booking = new Set<number>();

  constructor(
    private readonly repository: DispatchStore,
    private readonly uow: Transactional,
    readonly options: TeamBoardOptions,
  ) {
    this.index = new TeamIndex(this.teams, options.staleAfterMs);
  }

  async load(): Promise<void> {
    const { teams, activeOffers } = await this.repository.loadTeams();
    this.teams.clear();
    for (const row of teams) this.teams.set(row.id, { ...row, activeSites: new Map() });
    for (const offer of activeOffers) this.teams.get(offer.teamId)?.activeSites.set(offer.id, offer.siteId);
    this.index = new TeamIndex(this.teams, this.options.staleAfterMs);
  }

  list(): TeamView[] {
    return [...this.teams.values()].map(presentTeam);
  }

  view(id: number): TeamView | null {
    const team = this.teams.get(id);
    return team ? presentTeam(team) : null;
  }

  get(id: number): LiveTeam | undefined {
    return this.teams.get(id);
  }

  /** Best teams of one tier for a target (see ranking.ts); teams being booked right now are skipped. */
  rank(
    target: DispatchTarget,
    tier: Tier,
    options: { exclude?: ReadonlySet<number>; limit?: number; now?: Date; anyStatus?: boolean } = {},
  ): RankedCandidate[] {
    const exclude = new Set([...(options.exclude ?? []), ...this.booking]);
    return rankTier(this.index, target, tier, {
      at: options.now ?? this.options.clock(),
      estimator: this.options.estimator,
      policy: this.options.policy,
      exclude,
      limit: options.limit,
      anyStatus: options.anyStatus,
    });
  }

  /** The team's estimate to a target from where it is now (live position when fresh, else its base). */
  estimate(team: LiveTeam, target: DispatchTarget, now: Date): { distanceM: number; etaS: number } {
    const from = this.index.positionOf(team, now.getTime());
    return this.options.estimator.estimate(from, target, { at: now, detourFactor: target.detourFactor, travelRatio: team.travelRatio });
  }

  apply(changes: readonly TeamChange[]): void {
    for (const change of changes) {
      const team = this.teams.get(change.id);
      if (!team) continue;
      if (change.status) team.status = change.status;
      if (change.addOffer) team.activeSites.set(change.addOffer[0], change.addOffer[1]);
      if (change.dropOffer !== undefined) team.activeSites.delete(change.dropOffer);
      if (change.travel) Object.assign(team, { travelRatio: change.travel.ratio, travelSamples: change.travel.samples });
      if (change.position) {
        Object.assign(team, { lat: change.position.lat, lng: change.position.lng, positionAt: change.position.at });
        this.index.touch(team.id);
      }
    }
  }

  /** After a lost booking race: learn the state another process gave the team. */
  async reread(teamId: number): Promise<void> {
    const status = await this.repository.teamStatus(teamId);
    if (status) this.apply([{ id: teamId, status }]);
  }

  async setPosition(teamId: number, input: { lat: number; lng: number; at?: Date }): Promise<TeamView> {
    if (!this.teams.has(teamId)) throw errors.notFound(`team ${teamId}`);
    const position = { lat: input.lat, lng: input.lng, at: input.at ?? this.options.clock() };
    await this.uow.run(async (work) => {
      await this.repository.setTeamPosition(work.db, teamId, position);
      work.emit("team.changed", { teamId });
    });
    this.apply([{ id: teamId, position }]);
    return this.view(teamId)!;
  }

  /** available / off_duty / offline by hand; offered and busy follow the team's offers only. */
  async setStatus(teamId: number, status: "available" | "off_duty" | "offline"): Promise<TeamView> {
    if (!this.teams.has(teamId)) throw errors.notFound(`team ${teamId}`);
    await this.uow.run(async (work) => {
      const active = await this.repository.lockTeamActiveOffers(work.db, teamId);
      if (active === null) throw errors.notFound(`team ${teamId}`);
      if (active > 0) {
        throw errors.conflict(`team ${teamId} holds ${active} active offer(s); withdraw or finish them first`, { activeOffers: active }, "team_has_active_offers");
      }
      await this.repository.setTeamStatus(work.db, teamId, status);
      work.emit("team.changed", { teamId });
    });
    this.apply([{ id: teamId, status }]);
    return this.view(teamId)!;
  }
}

export function presentTeam(team: LiveTeam | (TeamRow & { activeSites?: unknown })): TeamView {
  return {
    id: team.id,
    name: team.name,
    kind: team.kind,
    status: team.status,
    phone: team.phone,
    lat: team.lat ?? team.baseLat,
    lng: team.lng ?? team.baseLng,
    positionAt: team.positionAt ? team.positionAt.toISOString() : null,
    maintenanceCompanyId: team.maintenanceCompanyId,
    organisation: team.organisation,
  };
}
