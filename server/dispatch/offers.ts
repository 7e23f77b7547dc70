import type { RankedTeamView } from "../contracts/index.ts";
import { errors } from "../platform/errors.ts";
import type { Logger } from "../platform/logger.ts";
import type { Transactional, Work } from "../platform/outbox/unit-of-work.ts";
import type { Actor } from "../incidents/repository/writes.ts";
import type { IncidentStatus } from "../incidents/lifecycle.ts";
import { warningDueAt } from "../sla/deadlines.ts";
import { Gate } from "./gate.ts";
import { tierOfKind, tiersToTry, type Tier } from "./policy.ts";
import type { DispatchTarget } from "./ranking.ts";
import { ACTIVE_OFFER, type DispatchIncident, type DispatchStore } from "./repository.ts";
import type { TeamBoard, TeamChange } from "./teams.ts";

export const DISPATCH_SYSTEM: Actor = { type: "system", id: "dispatch" };
/** Incident states in which more teams may still be sent. */
export const DISPATCHABLE: readonly IncidentStatus[] = ["reported", "dispatched", "accepted", "en_route"];

const isActive = (offer: { status: string }) => (ACTIVE_OFFER as readonly string[]).includes(offer.status);

export function targetOf(incident: DispatchIncident): DispatchTarget {
  return { lat: incident.lat, lng: incident.lng, siteId: incident.siteId, companyId: incident.companyId, detourFactor: incident.detourFactor };
}

interface Candidate {
  teamId: number;
  tier: number;
  etaS: number;
  distanceM: number;
  siteId: number;
}

interface OfferOptions {
  backup: boolean;
  actor: Actor;
  reason: string;
  manual: boolean;
  /**
   * Only if the incident holds no active offer when its row is locked: a follow-up that runs twice (two
   * processes, a redelivery) or races a dispatcher must not send a second team.
   */
  whenUnassigned?: boolean;
}

/** An offer written inside a unit of work; `team` is applied to the board once it committed. */
export interface MadeOffer {
  offerId: number;
  team: TeamChange;
}

export interface OffersOptions {
  offerTimeoutS: number;
  /** How long before the arrival deadline its warning check runs. */
  warningLeadS: number;
  clock: () => Date;
}

/**
 * Offering incidents to teams: the engine's automatic first offer, the next team after one dropped out,
 * escalations, and a dispatcher's own choice. Every offer is one transaction that books the team with a
 * conditional UPDATE, so no team is booked twice, across processes too.
 */
export class Offers {
  /** Leaves connections of a 10-connection pool for alarms, calls and the console during a storm. */
  private readonly gate = new Gate(4);

  constructor(
    private readonly repository: DispatchStore,
    private readonly uow: Transactional,
    private readonly teams: TeamBoard,
    private readonly log: Logger,
    private readonly options: OffersOptions,
  ) {}

  /** Ranked candidates of every tier of the policy for a dispatcher choosing by hand. */
  async candidates(incidentId: number, limit: number): Promise<RankedTeamView[]> {
    const incident = await this.repository.loadIncident(incidentId);
    if (!incident) throw errors.notFound(`incident ${incidentId}`);
    const target = targetOf(incident);
    const exclude = new Set(incident.offers.filter(isActive).map((o) => o.teamId));
    return this.teams.options.policy.order.flatMap((tier) =>
      this.teams.rank(target, tier, { exclude, limit }).map((c) => ({
        teamId: c.team.id,
        teamName: this.teams.get(c.team.id)?.name ?? "",
        kind: c.team.kind,
        status: c.team.status,
        tier,
        distanceM: c.distanceM,
        estimatedArrivalS: c.etaS,
        usedLivePosition: c.usedLivePosition,
      })),
    );
  }

  /**
   * Offers one team the incident inside the caller's unit of work: claim, offer row with its timeout
   * deadline and timeline entry, the first offer's arrival deadlines and the move to `dispatched`.
   * Null when the team was taken meanwhile; "gone" when the incident moved past dispatching.
   */
  async offerInTx(work: Work, incident: Pick<DispatchIncident, "id" | "arrivalDeadlineAt">, candidate: Candidate, options: OfferOptions) {
    const now = this.options.clock();
    const locked = await this.repository.lockIncident(work.db, incident.id);
    if (!locked || !DISPATCHABLE.includes(locked.status)) return "gone" as const;
    if (options.whenUnassigned && (await this.repository.countOffers(work.db, incident.id, ACTIVE_OFFER)) > 0) return "gone" as const;
    const teamStatus = await this.repository.claimTeam(work.db, candidate.teamId, candidate.siteId, this.teams.options.policy);
    if (!teamStatus) return null;
    const expiresAt = new Date(now.getTime() + this.options.offerTimeoutS * 1000);
    const first = locked.status === "reported";
    const offerId = await this.repository.insertOffer(work.db, {
      incidentId: incident.id,
      teamId: candidate.teamId,
      tier: candidate.tier,
      etaS: candidate.etaS,
      distanceM: candidate.distanceM,
      backup: options.backup,
      offeredAt: now,
      expiresAt,
      offeredBy: options.manual ? options.actor.id : null,
      entry: {
        type: "offer_made",
        actor: options.actor,
        at: now,
        reason: options.manual ? options.reason : undefined,
        data: { teamId: candidate.teamId, tier: candidate.tier, etaS: candidate.etaS, distanceM: candidate.distanceM, backup: options.backup, manual: options.manual },
      },
      // The first offer writes the arrival deadlines, so later offers (escalations, backups) find them in place.
      arrivalDeadlines: first
        ? {
            arrivalDeadlineAt: incident.arrivalDeadlineAt,
            warningAt: warningDueAt({
              now,
              arrivalDeadlineAt: incident.arrivalDeadlineAt,
              leadS: this.options.warningLeadS,
              estimatedArrivalAt: new Date(now.getTime() + candidate.etaS * 1000),
            }),
          }
        : null,
    });
    if (first) await this.repository.transition(work.db, incident.id, "dispatched", { actor: options.actor, at: now, reason: options.reason }, locked);
    work.emit("team.changed", { teamId: candidate.teamId });
    work.emit("incident.changed", { incidentId: incident.id });
    return { offerId, team: { id: candidate.teamId, status: teamStatus, addOffer: [offerId, candidate.siteId] } } satisfies MadeOffer;
  }

  private async createOffer(incident: DispatchIncident, candidate: Candidate, options: OfferOptions): Promise<number | null | "gone"> {
    const made = await this.uow.run((work) => this.offerInTx(work, incident, candidate, options));
    if (made === "gone") return "gone";
    if (made === null) {
      await this.teams.reread(candidate.teamId);
      return null;
    }
    this.teams.apply([made.team]);
    return made.offerId;
  }

  /** Offers the incident to the best team of `tier`; null when none is bookable. */
  private async offerBestInTier(
    incident: DispatchIncident,
    tier: Tier,
    exclude: Set<number>,
    options: { backup: boolean; reason: string; whenUnassigned: boolean },
  ) {
    const target = targetOf(incident);
    for (;;) {
      const [best] = this.teams.rank(target, tier, { exclude });
      if (!best) return null;
      exclude.add(best.team.id);
      this.teams.booking.add(best.team.id);
      try {
        const offerId = await this.createOffer(
          incident,
          { teamId: best.team.id, tier, etaS: best.etaS, distanceM: best.distanceM, siteId: target.siteId },
          { ...options, actor: DISPATCH_SYSTEM, manual: false },
        );
        if (offerId === "gone") return null;
        if (offerId !== null) return offerId;
      } finally {
        this.teams.booking.delete(best.team.id);
      }
    }
  }

  /**
   * Offers the incident to the next team(s) by the tier policy, skipping teams it was already offered to.
   * With nobody left, an incident that has no active offer goes back to `reported`.
   */
  dispatchNext(incidentId: number, options: { aboveTier?: number; backup?: boolean; allTiers?: boolean; reason: string }): Promise<number[]> {
    return this.gate.run(() => this.dispatchNextNow(incidentId, options));
  }

  private async dispatchNextNow(
    incidentId: number,
    options: { aboveTier?: number; backup?: boolean; allTiers?: boolean; reason: string; whenUnassigned?: boolean },
    loaded?: DispatchIncident,
  ): Promise<number[]> {
    const incident = loaded ?? (await this.repository.loadIncident(incidentId));
    if (!incident || !DISPATCHABLE.includes(incident.status)) return [];
    const exclude = new Set(incident.offers.map((o) => o.teamId));
    const hasActive = incident.offers.some(isActive);
    const policy = this.teams.options.policy;
    const allTiers = options.allTiers ?? (policy.allTiersAtOnce && options.aboveTier === undefined);
    const created: number[] = [];
    for (const tier of tiersToTry(policy, { aboveTier: options.aboveTier })) {
      const offerId = await this.offerBestInTier(incident, tier, exclude, {
        backup: options.backup ?? (hasActive || created.length > 0),
        reason: options.reason,
        whenUnassigned: (options.whenUnassigned ?? false) && created.length === 0,
      });
      if (offerId !== null) {
        created.push(offerId);
        if (!allTiers) break;
      }
    }
    // Only a dispatched incident can have lost its last team; a reported one has nothing to revert.
    if (created.length === 0 && incident.status !== "reported") await this.revertIfUnassigned(incidentId);
    return created;
  }

  /**
   * The follow-up of a decline, expiry or withdrawal that left the incident without an active offer.
   * Idempotent: an incident that has an active offer again (delivered twice, or a dispatcher was quicker)
   * is left alone.
   */
  async dispatchIfUnassigned(incidentId: number, reason: string): Promise<void> {
    await this.gate.run(async () => {
      const incident = await this.repository.loadIncident(incidentId);
      if (!incident || !DISPATCHABLE.includes(incident.status) || incident.offers.some(isActive)) return;
      await this.dispatchNextNow(incidentId, { reason, whenUnassigned: true }, incident);
    });
  }

  /** dispatched with no active offer (all declined/expired/withdrawn, nobody left) -> reported. */
  private async revertIfUnassigned(incidentId: number): Promise<void> {
    const reverted = await this.uow.run(async (work) => {
      const locked = await this.repository.lockIncident(work.db, incidentId);
      if (locked?.status !== "dispatched") return false;
      if ((await this.repository.countOffers(work.db, incidentId, ACTIVE_OFFER)) > 0) return false;
      await this.repository.transition(work.db, incidentId, "reported", { actor: DISPATCH_SYSTEM, at: this.options.clock(), reason: "no team available" }, locked);
      work.emit("incident.changed", { incidentId });
      return true;
    });
    if (reverted) this.log.warn({ incidentId }, "no available team to offer");
  }

  /**
   * First dispatch of a newly opened incident; returns the first offer id, or null when nobody is free
   * (then the arrival deadlines start at once, so the escalation clock runs). Idempotent: an incident
   * already past `reported`, or one that was offered before, is left alone.
   */
  async autoDispatch(incidentId: number): Promise<number | null> {
    const outcome = await this.gate.run(async () => {
      const incident = await this.repository.loadIncident(incidentId);
      if (!incident || incident.status !== "reported" || incident.offers.length > 0) return null;
      return { incident, created: await this.dispatchNextNow(incidentId, { reason: "offered to nearest team", whenUnassigned: true }, incident) };
    });
    if (outcome === null) return null;
    const { incident, created } = outcome;
    if (created.length === 0) {
      this.log.warn({ incidentId }, "no available team to offer");
      const now = this.options.clock();
      await this.uow.run((work) =>
        this.repository.insertArrivalDeadlines(work.db, incidentId, {
          arrivalDeadlineAt: incident.arrivalDeadlineAt,
          warningAt: warningDueAt({ now, arrivalDeadlineAt: incident.arrivalDeadlineAt, leadS: this.options.warningLeadS, estimatedArrivalAt: null }),
        }),
      );
    }
    return created[0] ?? null;
  }

  /** A dispatcher sends a chosen team (override, manual assignment or backup). */
  async assign(incidentId: number, teamId: number, options: { actor: Actor; reason: string; backup?: boolean }): Promise<number> {
    const made = await this.uow.run((work) => this.assignInTx(work, incidentId, teamId, options));
    this.teams.apply([made.team]);
    return made.offerId;
  }

  /** The same inside the caller's unit of work (a withdrawal and the reassignment commit together). */
  async assignInTx(work: Work, incidentId: number, teamId: number, options: { actor: Actor; reason: string; backup?: boolean }): Promise<MadeOffer> {
    const incident = await this.repository.loadIncident(incidentId, work.db);
    if (!incident) throw errors.notFound(`incident ${incidentId}`);
    if (!DISPATCHABLE.includes(incident.status)) throw errors.conflict(`incident ${incidentId} is ${incident.status}; no team can be sent`, { status: incident.status }, "incident_not_dispatchable");
    const team = this.teams.get(teamId);
    if (!team) throw errors.notFound(`team ${teamId}`);
    const active = incident.offers.filter(isActive);
    if (active.some((o) => o.teamId === teamId)) throw errors.conflict(`team ${teamId} already holds an active offer for this incident`, { teamId }, "team_already_offered");
    if (this.teams.booking.has(teamId)) throw errors.conflict(`team ${teamId} is being booked right now`, { teamId }, "team_unavailable");
    const target = targetOf(incident);
    const estimate = this.teams.estimate(team, target, this.options.clock());
    this.teams.booking.add(teamId);
    try {
      const made = await this.offerInTx(
        work,
        incident,
        { teamId, tier: tierOfKind(team.kind), etaS: estimate.etaS, distanceM: estimate.distanceM, siteId: target.siteId },
        { actor: options.actor, reason: options.reason, backup: options.backup ?? active.length > 0, manual: true },
      );
      if (made === "gone") throw errors.conflict(`incident ${incidentId} moved on; no team can be sent`, undefined, "incident_not_dispatchable");
      if (made === null) throw errors.conflict(`team ${teamId} is ${team.status} and cannot take this incident`, { teamId, status: team.status }, "team_unavailable");
      return made;
    } finally {
      this.teams.booking.delete(teamId);
    }
  }
}
