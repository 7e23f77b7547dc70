import { crashPoint } from "../platform/crash.ts";
import { Prisma, type PrismaClient } from "../platform/db/generated/client.ts";
import type { DomainEvents } from "../platform/events.ts";
import type { Logger } from "../platform/logger.ts";
import type { RankedTeamView, SlaAlertView, TeamView } from "../contracts/index.ts";
import { ApiError, errors } from "../platform/errors.ts";
import {
  appendEvent,
  eventColumnsSql,
  eventValuesSql,
  jsonbSql,
  lockIncidentRow,
  transitionIncident,
  type Actor,
} from "../incidents/service.ts";
import type { IncidentStatus } from "../incidents/lifecycle.ts";
import { distance as greatCircleKm } from "geokdbush";
import { StraightLineEstimator, learnTravelRatio, type TravelTimeEstimator } from "./estimator.ts";
import { TeamIndex, type IndexedTeam, type RankedCandidate } from "./team-index.ts";
import { defaultTierPolicy, mayTakeAnother, tierOfKind, tiersToTry, type Tier, type TierPolicy } from "./policy.ts";
import type { TeamStatus } from "./ranking.ts";
import { Gate } from "./gate.ts";
import { arrivalDeadlinesInsertSql, cancelIncidentDeadlines, cancelOfferTimeout, predictsMiss } from "../sla/deadlines.ts";

interface DispatchIncident {
  id: number;
  code: string;
  status: IncidentStatus;
  arrivalDeadlineAt: Date;
  lat: number;
  lng: number;
  siteId: number;
  companyId: number;
  detourFactor: number;
  offers: { id: number; teamId: number; status: string; tier: number }[];
}

interface LiveTeam extends IndexedTeam {
  name: string;
  phone: string;
  organisation: string;
  travelSamples: number;
  /** Active offers (offered or accepted) of this team: offer id -> site id. */
  activeSites: Map<number, number>;
}

export interface DispatchOptions {
  offerTimeoutS: number;
  clock: () => Date;
  policy?: TierPolicy;
  positionStaleS?: number;
  arrivalRadiusM?: number;
  slaWarningLeadS?: number;
  estimator?: TravelTimeEstimator;
}

const SYSTEM: Actor = { type: "system", id: "dispatch" };
/** Incident states in which more teams may still be sent. */
const DISPATCHABLE: readonly IncidentStatus[] = ["reported", "dispatched", "accepted", "en_route"];
const ENDED: readonly IncidentStatus[] = ["released", "closed", "cancelled", "false_alarm"];
const ACTIVE_OFFER = ["offered", "accepted"] as const;

/** Rolls back a transaction whose incident moved on meanwhile; not an error for the caller. */
class Gone extends Error {}

const km = (a: { lat: number; lng: number }, b: { lat: number; lng: number }) => greatCircleKm(a.lng, a.lat, b.lng, b.lat);

/**
 * Team state lives in memory (rebuilt from the database at start) so ranking never waits on a query;
 * every change is written to the database first, guarded by a row lock and a conditional update so that
 * no team is booked twice, even by another server process.
 */
export class DispatchService {
  private readonly teams = new Map<number, LiveTeam>();
  private index: TeamIndex;
  /** Teams being claimed by a transaction of this process: keeps concurrent dispatches off the same team. */
  private readonly claiming = new Set<number>();
  /** Leaves connections of a 10-connection pool for alarms, calls and the console during a storm. */
  private readonly gate = new Gate(4);
  readonly policy: TierPolicy;
  readonly estimator: TravelTimeEstimator;
  private readonly staleAfterMs: number;
  private readonly arrivalRadiusM: number;
  private readonly warningLeadS: number;
  /** Set by the app: pushes SLA alerts to dispatchers and supervisors. */
  notifySla: (event: "sla:warning" | "sla:escalated", alert: SlaAlertView) => void = () => {};

  constructor(
    private readonly prisma: PrismaClient,
    private readonly events: DomainEvents,
    private readonly log: Logger,
    private readonly options: DispatchOptions,
  ) {
    this.policy = options.policy ?? defaultTierPolicy;
    this.estimator = options.estimator ?? new StraightLineEstimator();
    this.staleAfterMs = (options.positionStaleS ?? 300) * 1000;
    this.arrivalRadiusM = options.arrivalRadiusM ?? 300;
    this.warningLeadS = options.slaWarningLeadS ?? 600;
    this.index = new TeamIndex(this.teams, this.staleAfterMs);
  }

  async load(): Promise<void> {
    const rows = await this.prisma.team.findMany({
      include: { maintenanceCompany: true, rescueStation: true, fireStation: true },
    });
    const active = await this.prisma.dispatchOffer.findMany({
      where: { status: { in: [...ACTIVE_OFFER] } },
      select: { id: true, teamId: true, incident: { select: { elevator: { select: { siteId: true } } } } },
    });
    this.teams.clear();
    for (const row of rows) {
      this.teams.set(row.id, {
        id: row.id,
        name: row.name,
        phone: row.phone,
        kind: row.kind,
        status: row.status,
        maintenanceCompanyId: row.maintenanceCompanyId,
        baseLat: row.baseLat,
        baseLng: row.baseLng,
        lat: row.lat,
        lng: row.lng,
        positionAt: row.positionAt,
        travelRatio: row.travelRatio,
        travelSamples: row.travelSamples,
        organisation: row.maintenanceCompany?.name ?? row.rescueStation?.name ?? row.fireStation?.name ?? "",
        activeSites: new Map(),
      });
    }
    for (const offer of active) this.teams.get(offer.teamId)?.activeSites.set(offer.id, offer.incident.elevator.siteId);
    this.index = new TeamIndex(this.teams, this.staleAfterMs);
  }

  listTeams(): TeamView[] {
    return [...this.teams.values()].map(presentTeam);
  }

  team(id: number): TeamView | null {
    const team = this.teams.get(id);
    return team ? presentTeam(team) : null;
  }

  // ---------------------------------------------------------------- ranking

  private groupKey(tier: Tier, companyId: number): string {
    return tier === 1 ? `c${companyId}` : tier === 2 ? "rescue_station" : "fire";
  }

  private bookable(team: LiveTeam, siteId: number, exclude: ReadonlySet<number>): boolean {
    if (exclude.has(team.id) || this.claiming.has(team.id)) return false;
    if (team.status === "available") return true;
    if (team.status !== "offered" && team.status !== "busy") return false;
    return this.policy.sameSiteMax > 1 && mayTakeAnother([...team.activeSites.values()], siteId, this.policy);
  }

  /** Best bookable teams of one tier for a target, by estimated arrival. */
  rankTier(
    target: { lat: number; lng: number; siteId: number; companyId: number; detourFactor: number },
    tier: Tier,
    options: { exclude?: ReadonlySet<number>; limit?: number; now?: Date; anyStatus?: boolean } = {},
  ): RankedCandidate[] {
    const exclude = options.exclude ?? new Set<number>();
    const accept = options.anyStatus
      ? (team: IndexedTeam) => !exclude.has(team.id)
      : (team: IndexedTeam) => this.bookable(team as LiveTeam, target.siteId, exclude);
    return this.index.nearest(
      this.groupKey(tier, target.companyId),
      target,
      { at: options.now ?? this.options.clock(), detourFactor: target.detourFactor },
      this.estimator,
      accept,
      options.limit ?? 1,
    );
  }

  /** Ranked candidates of every tier of the policy for a dispatcher choosing by hand. */
  async candidates(incidentId: number, limit: number): Promise<RankedTeamView[]> {
    const incident = await this.loadIncident(incidentId);
    if (!incident) throw errors.notFound(`incident ${incidentId}`);
    const target = this.targetOf(incident);
    const exclude = new Set(incident.offers.filter((o) => ACTIVE_OFFER.includes(o.status as never)).map((o) => o.teamId));
    return this.policy.order.flatMap((tier) =>
      this.rankTier(target, tier, { exclude, limit }).map((c) => ({
        teamId: c.team.id,
        teamName: (c.team as LiveTeam).name,
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
   * What dispatching needs of an incident in one plain query (its offers aggregated as JSON): the ORM's
   * nested include costs several round trips, which a 500-incident power cut pays 500 times over.
   */
  private async loadIncident(incidentId: number): Promise<DispatchIncident | null> {
    const rows = (await this.prisma.$queryRaw`
      SELECT i.id, i.code, i.status::text AS status, i."arrivalDeadlineAt", s.lat, s.lng, e."siteId",
             e."maintenanceCompanyId" AS "companyId", d."detourFactor",
             COALESCE((SELECT json_agg(json_build_object('id', o.id, 'teamId', o."teamId", 'status', o.status, 'tier', o.tier) ORDER BY o.id)
                       FROM dispatch_offers o WHERE o."incidentId" = i.id), '[]'::json) AS offers
      FROM incidents i JOIN elevators e ON e.id = i."elevatorId" JOIN sites s ON s.id = e."siteId"
      JOIN districts d ON d.id = i."districtId"
      WHERE i.id = ${incidentId}::int`) as DispatchIncident[];
    return rows[0] ?? null;
  }

  private targetOf(incident: DispatchIncident) {
    return { lat: incident.lat, lng: incident.lng, siteId: incident.siteId, companyId: incident.companyId, detourFactor: incident.detourFactor };
  }

  // ---------------------------------------------------------------- booking

  /**
   * Books a team: the conditional UPDATE takes a free team (and its row lock) in one statement; a team
   * already on a job passes only under the same-site rule, checked against committed offers while the
   * row lock is held.
   */
  private async claimTeam(tx: Prisma.TransactionClient, teamId: number, siteId: number): Promise<TeamStatus | null> {
    const claimed = await tx.$executeRaw`
      UPDATE teams SET status = 'offered'::"TeamStatus" WHERE id = ${teamId}::int AND status = 'available'::"TeamStatus"`;
    if (claimed === 1) return "offered";
    if (this.policy.sameSiteMax <= 1) return null;
    const rows = (await tx.$queryRaw`SELECT status::text AS status FROM teams WHERE id = ${teamId} FOR UPDATE`) as { status: TeamStatus }[];
    const status = rows[0]?.status;
    if (status === "offered" || status === "busy") {
      const sites = (await tx.$queryRaw`
        SELECT e."siteId" AS "siteId" FROM dispatch_offers o
        JOIN incidents i ON i.id = o."incidentId" JOIN elevators e ON e.id = i."elevatorId"
        WHERE o."teamId" = ${teamId} AND o.status IN ('offered', 'accepted')`) as { siteId: number }[];
      // Already offered or busy: taking one more lift of the same building leaves its status as it is.
      return mayTakeAnother(
        sites.map((s) => s.siteId),
        siteId,
        this.policy,
      )
        ? status
        : null;
    }
    // Freed between the UPDATE and the lock: the claim now succeeds, since this transaction holds the lock.
    if (status === "available") return this.claimTeam(tx, teamId, siteId);
    return null;
  }

  /**
   * Team status follows its offers: busy with an accepted one, offered with a pending one, else available.
   * A team its dispatcher took off duty stays off duty. One statement: count, update, and the status that
   * results (the update's, or the unchanged row's).
   */
  private async refreshTeamStatus(tx: Prisma.TransactionClient, teamId: number): Promise<TeamStatus> {
    const [row] = (await tx.$queryRaw`
      WITH counts AS (
        SELECT count(*) FILTER (WHERE status = 'accepted') AS accepted, count(*) FILTER (WHERE status = 'offered') AS offered
        FROM dispatch_offers WHERE "teamId" = ${teamId}::int),
      updated AS (
        UPDATE teams SET status = (CASE WHEN counts.accepted > 0 THEN 'busy' WHEN counts.offered > 0 THEN 'offered' ELSE 'available' END)::"TeamStatus"
        FROM counts
        WHERE teams.id = ${teamId}::int AND teams.status IN ('available', 'offered', 'busy')
        RETURNING teams.status)
      SELECT COALESCE((SELECT status::text FROM updated), (SELECT status::text FROM teams WHERE id = ${teamId}::int)) AS status`) as {
      status: TeamStatus;
    }[];
    return row!.status;
  }

  private async lockIncident(tx: Prisma.TransactionClient, incidentId: number): Promise<IncidentStatus | null> {
    return (await lockIncidentRow(tx, incidentId))?.status ?? null;
  }

  private afterCommit(changes: { teams?: { id: number; status?: TeamStatus; addOffer?: [number, number]; dropOffer?: number }[]; incidentId?: number }) {
    for (const change of changes.teams ?? []) {
      const team = this.teams.get(change.id);
      if (!team) continue;
      if (change.status) team.status = change.status;
      if (change.addOffer) team.activeSites.set(change.addOffer[0], change.addOffer[1]);
      if (change.dropOffer !== undefined) team.activeSites.delete(change.dropOffer);
      this.events.emit("team.changed", { teamId: change.id });
    }
    if (changes.incidentId !== undefined) this.events.emit("incident.changed", { incidentId: changes.incidentId });
  }

  /**
   * Offers one team the incident inside one transaction: claim, offer row, its timeout deadline, the
   * timeline entry and (first offer) the move to `dispatched`. Returns null when the team was taken.
   * Statements are combined (one for the offer, its deadline and its entry; one for the transition and its
   * entry) because every round trip is paid once per offer, hundreds of times in a power cut.
   */
  private async createOffer(
    incidentId: number,
    candidate: { teamId: number; tier: number; etaS: number; distanceM: number; siteId: number },
    options: { backup: boolean; actor: Actor; reason: string; manual: boolean; arrivalDeadlineAt: Date },
  ): Promise<number | null> {
    const now = this.options.clock();
    const result = await this.prisma
      .$transaction(async (tx) => {
        const incident = await lockIncidentRow(tx, incidentId);
        if (!incident || !DISPATCHABLE.includes(incident.status)) throw new Gone();
        const teamStatus = await this.claimTeam(tx, candidate.teamId, candidate.siteId);
        if (!teamStatus) return null;
        const expiresAt = new Date(now.getTime() + this.options.offerTimeoutS * 1000);
        const offerMade = {
          type: "offer_made",
          actor: options.actor,
          at: now,
          reason: options.manual ? options.reason : undefined,
        };
        const offerMadeData = {
          teamId: candidate.teamId,
          tier: candidate.tier,
          etaS: candidate.etaS,
          distanceM: candidate.distanceM,
          backup: options.backup,
          manual: options.manual,
        };
        // The new offer's id goes into its timeout row and timeline entry, hence one statement for all three;
        // the first offer also writes the incident's arrival deadlines, so later offers (escalations,
        // backups) find them in place.
        const arrivalDeadlines = arrivalDeadlinesInsertSql(
          { id: incidentId, arrivalDeadlineAt: options.arrivalDeadlineAt },
          { now, leadS: this.warningLeadS, estimatedArrivalAt: new Date(now.getTime() + candidate.etaS * 1000) },
          Prisma.sql`${incident.status === "reported"}::boolean`,
        );
        const [offer] = (await tx.$queryRaw`
          WITH offer AS (
            INSERT INTO dispatch_offers ("incidentId", "teamId", tier, backup, "estimatedArrivalS", "distanceM", "offeredAt", "expiresAt", "offeredBy")
            VALUES (${incidentId}::int, ${candidate.teamId}::int, ${candidate.tier}::int, ${options.backup}::boolean, ${candidate.etaS}::int,
                    ${candidate.distanceM}::int, ${now}::timestamp(3), ${expiresAt}::timestamp(3), ${options.manual ? options.actor.id : null}::text)
            RETURNING id),
          timeout AS (
            INSERT INTO sla_deadlines ("incidentId", kind, "dueAt", data)
            SELECT ${incidentId}::int, 'offer_timeout', ${expiresAt}::timestamp(3), jsonb_build_object('offerId', offer.id) FROM offer),
          made AS (
            INSERT INTO incident_events ${eventColumnsSql}
            SELECT ${eventValuesSql(Prisma.sql`${incidentId}::int`, offerMade, {
              data: Prisma.sql`jsonb_build_object('offerId', offer.id) || ${jsonbSql(offerMadeData)}`,
            })}
            FROM offer),
          arrival AS (${arrivalDeadlines})
          SELECT id FROM offer`) as [{ id: number }];
        if (incident.status === "reported") {
          await transitionIncident(tx, incidentId, "dispatched", { actor: options.actor, at: now, reason: options.reason }, incident);
        }
        return { offerId: offer.id, teamStatus };
      })
      .catch((error) => {
        if (error instanceof Gone) return "gone" as const;
        throw error;
      });
    if (result === "gone") return null;
    if (result === null) {
      // Booked meanwhile by another process: learn its state and let the caller try the next team.
      const fresh = await this.prisma.team.findUnique({ where: { id: candidate.teamId }, select: { status: true } });
      const live = this.teams.get(candidate.teamId);
      if (live && fresh) live.status = fresh.status;
      return null;
    }
    this.afterCommit({
      teams: [{ id: candidate.teamId, status: result.teamStatus, addOffer: [result.offerId, candidate.siteId] }],
      incidentId,
    });
    return result.offerId;
  }

  /** Offers the incident to the best team of `tier`; null when none is bookable. */
  private async offerBestInTier(
    incident: DispatchIncident,
    tier: Tier,
    exclude: Set<number>,
    options: { backup: boolean; reason: string },
  ): Promise<number | null> {
    const target = this.targetOf(incident);
    for (;;) {
      const [best] = this.rankTier(target, tier, { exclude });
      if (!best) return null;
      exclude.add(best.team.id);
      this.claiming.add(best.team.id);
      try {
        const offerId = await this.createOffer(
          incident.id,
          { teamId: best.team.id, tier, etaS: best.etaS, distanceM: best.distanceM, siteId: target.siteId },
          { ...options, actor: SYSTEM, manual: false, arrivalDeadlineAt: incident.arrivalDeadlineAt },
        );
        if (offerId !== null) return offerId;
        const now = await this.prisma.incident.findUnique({ where: { id: incident.id }, select: { status: true } });
        if (!now || !DISPATCHABLE.includes(now.status)) return null;
      } finally {
        this.claiming.delete(best.team.id);
      }
    }
  }

  /**
   * Offers the incident to the next team(s) by the tier policy, skipping teams it was already offered to.
   * With nobody left, an incident that has no active offer goes back to `reported`.
   */
  dispatchNext(
    incidentId: number,
    options: { aboveTier?: number; backup?: boolean; allTiers?: boolean; reason: string },
  ): Promise<number[]> {
    return this.gate.run(() => this.dispatchNextNow(incidentId, options));
  }

  private async dispatchNextNow(
    incidentId: number,
    options: { aboveTier?: number; backup?: boolean; allTiers?: boolean; reason: string },
    loaded?: DispatchIncident,
  ): Promise<number[]> {
    const incident = loaded ?? (await this.loadIncident(incidentId));
    if (!incident || !DISPATCHABLE.includes(incident.status)) return [];
    const exclude = new Set(incident.offers.map((o) => o.teamId));
    const hasActive = incident.offers.some((o) => ACTIVE_OFFER.includes(o.status as never));
    const allTiers = options.allTiers ?? (this.policy.allTiersAtOnce && options.aboveTier === undefined);
    const created: number[] = [];
    for (const tier of tiersToTry(this.policy, { aboveTier: options.aboveTier })) {
      const offerId = await this.offerBestInTier(incident, tier, exclude, {
        backup: options.backup ?? (hasActive || created.length > 0),
        reason: options.reason,
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

  /** dispatched with no active offer (all declined/expired/withdrawn, nobody left) -> reported. */
  private async revertIfUnassigned(incidentId: number): Promise<void> {
    const reverted = await this.prisma.$transaction(async (tx) => {
      const status = await this.lockIncident(tx, incidentId);
      if (status !== "dispatched") return false;
      const active = await tx.dispatchOffer.count({ where: { incidentId, status: { in: [...ACTIVE_OFFER] } } });
      if (active > 0) return false;
      await transitionIncident(tx, incidentId, "reported", { actor: SYSTEM, at: this.options.clock(), reason: "no team available" });
      return true;
    });
    if (reverted) {
      this.log.warn({ incidentId }, "no available team to offer");
      this.afterCommit({ incidentId });
    }
  }

  /** First dispatch of a newly opened incident; returns the first offer id, or null when nobody is free. */
  async autoDispatch(incidentId: number): Promise<number | null> {
    const outcome = await this.gate.run(async () => {
      const incident = await this.loadIncident(incidentId);
      if (!incident || incident.status !== "reported") return null;
      return { incident, created: await this.dispatchNextNow(incidentId, { reason: "offered to nearest team" }, incident) };
    });
    if (outcome === null) return null;
    const { incident, created } = outcome;
    if (created.length === 0) {
      this.log.warn({ incidentId }, "no available team to offer");
      await this.prisma.$executeRaw`${arrivalDeadlinesInsertSql(
        { id: incidentId, arrivalDeadlineAt: incident.arrivalDeadlineAt },
        { now: this.options.clock(), leadS: this.warningLeadS, estimatedArrivalAt: null },
      )}`;
    }
    return created[0] ?? null;
  }

  /** A dispatcher sends a chosen team (override, manual assignment or backup). */
  async assign(incidentId: number, teamId: number, options: { actor: Actor; reason: string; backup?: boolean }): Promise<number> {
    const incident = await this.loadIncident(incidentId);
    if (!incident) throw errors.notFound(`incident ${incidentId}`);
    if (!DISPATCHABLE.includes(incident.status)) throw errors.conflict(`incident ${incidentId} is ${incident.status}; no team can be sent`);
    const team = this.teams.get(teamId);
    if (!team) throw errors.notFound(`team ${teamId}`);
    if (incident.offers.some((o) => o.teamId === teamId && ACTIVE_OFFER.includes(o.status as never))) {
      throw errors.conflict(`team ${teamId} already holds an active offer for this incident`);
    }
    const target = this.targetOf(incident);
    const now = this.options.clock();
    const from = this.index.positionOf(team, now.getTime());
    const estimate = this.estimator.estimate(from, target, { at: now, detourFactor: target.detourFactor, travelRatio: team.travelRatio });
    const hasActive = incident.offers.some((o) => ACTIVE_OFFER.includes(o.status as never));
    if (this.claiming.has(teamId)) throw errors.conflict(`team ${teamId} is being booked right now`);
    this.claiming.add(teamId);
    try {
      const offerId = await this.createOffer(
        incidentId,
        { teamId, tier: tierOfKind(team.kind), etaS: estimate.etaS, distanceM: estimate.distanceM, siteId: target.siteId },
        { actor: options.actor, reason: options.reason, backup: options.backup ?? hasActive, manual: true, arrivalDeadlineAt: incident.arrivalDeadlineAt },
      );
      if (offerId === null) throw errors.conflict(`team ${teamId} is ${this.teams.get(teamId)?.status ?? "unavailable"} and cannot take this incident`);
      return offerId;
    } finally {
      this.claiming.delete(teamId);
    }
  }

  // ---------------------------------------------------------------- answers

  private async answer(
    offerId: number,
    options: {
      from: readonly ("offered" | "accepted")[];
      to: "accepted" | "declined" | "expired" | "withdrawn";
      eventType: string;
      actor: Actor;
      reason?: string;
    },
  ): Promise<{ incidentId: number; teamId: number; siteId: number; activeLeft: number } | null> {
    const offer = await this.prisma.dispatchOffer.findUnique({
      where: { id: offerId },
      select: { incidentId: true, incident: { select: { elevator: { select: { siteId: true } } } } },
    });
    if (!offer) throw errors.notFound(`offer ${offerId}`);
    const now = this.options.clock();
    const result = await this.prisma.$transaction(async (tx) => {
      const incident = await lockIncidentRow(tx, offer.incidentId);
      const status = incident?.status ?? null;
      const current = await tx.dispatchOffer.findUniqueOrThrow({ where: { id: offerId } });
      if (!options.from.includes(current.status as never)) {
        if (options.to === "expired") return null; // answered meanwhile: the timeout has nothing to do
        throw errors.conflict(`offer ${offerId} is ${current.status}, not ${options.from.join(" or ")}`, { status: current.status });
      }
      await tx.dispatchOffer.update({
        where: { id: offerId },
        data: {
          status: options.to,
          ...(current.status === "offered" ? { respondedAt: now } : {}),
          ...(options.to === "declined" ? { declineReason: options.reason } : {}),
        },
      });
      await cancelOfferTimeout(tx, offerId, now);
      await appendEvent(tx, offer.incidentId, {
        type: options.eventType,
        actor: options.actor,
        at: now,
        reason: options.reason,
        data: { offerId, teamId: current.teamId, tier: current.tier, backup: current.backup },
      });
      // The incident row is locked and unchanged since it was read: the transitions reuse that read.
      if (options.to === "accepted" && status === "dispatched") {
        await transitionIncident(tx, offer.incidentId, "accepted", { actor: options.actor, at: now, reason: "team accepted" }, incident!);
      }
      if (options.to === "withdrawn" && current.status === "accepted" && (status === "accepted" || status === "en_route")) {
        const stillAccepted = await tx.dispatchOffer.count({ where: { incidentId: offer.incidentId, status: "accepted" } });
        if (stillAccepted === 0) {
          await transitionIncident(tx, offer.incidentId, "dispatched", { actor: options.actor, at: now, reason: options.reason }, incident!);
        }
      }
      const teamStatus = await this.refreshTeamStatus(tx, current.teamId);
      const activeLeft = await tx.dispatchOffer.count({ where: { incidentId: offer.incidentId, status: { in: [...ACTIVE_OFFER] } } });
      return { teamId: current.teamId, teamStatus, activeLeft };
    });
    if (!result) return null;
    this.afterCommit({
      teams: [{ id: result.teamId, status: result.teamStatus, ...(options.to === "accepted" ? {} : { dropOffer: offerId }) }],
      incidentId: offer.incidentId,
    });
    return { incidentId: offer.incidentId, teamId: result.teamId, siteId: offer.incident.elevator.siteId, activeLeft: result.activeLeft };
  }

  async accept(offerId: number, actor: Actor): Promise<number> {
    const done = await this.answer(offerId, { from: ["offered"], to: "accepted", eventType: "offer_accepted", actor });
    return done!.incidentId;
  }

  async decline(offerId: number, reason: string, actor: Actor): Promise<number> {
    const done = await this.answer(offerId, { from: ["offered"], to: "declined", eventType: "offer_declined", actor, reason });
    crashPoint("offer:declined");
    if (done!.activeLeft === 0) await this.dispatchNext(done!.incidentId, { reason: "previous team declined" });
    return done!.incidentId;
  }

  /** Offer timeout, fired by the SLA scheduler: idempotent, an answered offer is left alone. */
  async expireOffer(offerId: number): Promise<void> {
    const done = await this.answer(offerId, {
      from: ["offered"],
      to: "expired",
      eventType: "offer_expired",
      actor: SYSTEM,
      reason: `no answer within ${this.options.offerTimeoutS} s`,
    }).catch((error) => {
      if (error instanceof ApiError && error.status === 404) return null;
      throw error;
    });
    if (done) crashPoint("offer:expired");
    if (done && done.activeLeft === 0) await this.dispatchNext(done.incidentId, { reason: "previous offer expired" });
  }

  /** Dispatcher override: take the offer back and send `reassignTeamId`, or the engine's next choice. */
  async withdraw(offerId: number, input: { reason: string; reassignTeamId?: number; actor: Actor }): Promise<number> {
    const done = await this.answer(offerId, {
      from: ["offered", "accepted"],
      to: "withdrawn",
      eventType: "offer_withdrawn",
      actor: input.actor,
      reason: input.reason,
    });
    const incidentId = done!.incidentId;
    if (input.reassignTeamId !== undefined) {
      await this.assign(incidentId, input.reassignTeamId, { actor: input.actor, reason: input.reason, backup: done!.activeLeft > 0 });
    } else if (done!.activeLeft === 0) {
      await this.dispatchNext(incidentId, { reason: "previous offer withdrawn by dispatcher" });
    }
    return incidentId;
  }

  /** The accepted team sets off: accepted -> en_route. */
  async depart(offerId: number, input: { actor: Actor; lat?: number; lng?: number }): Promise<number> {
    const offer = await this.prisma.dispatchOffer.findUnique({ where: { id: offerId } });
    if (!offer) throw errors.notFound(`offer ${offerId}`);
    const now = this.options.clock();
    await this.prisma.$transaction(async (tx) => {
      const status = await this.lockIncident(tx, offer.incidentId);
      const current = await tx.dispatchOffer.findUniqueOrThrow({ where: { id: offerId } });
      if (current.status !== "accepted") throw errors.conflict(`offer ${offerId} is ${current.status}; only an accepted offer departs`);
      if (status === "accepted") {
        await transitionIncident(tx, offer.incidentId, "en_route", { actor: input.actor, at: now, lat: input.lat, lng: input.lng, reason: "team departed" });
      } else {
        await appendEvent(tx, offer.incidentId, { type: "team_departed", actor: input.actor, at: now, lat: input.lat, lng: input.lng, data: { offerId, teamId: current.teamId } });
      }
    });
    this.afterCommit({ incidentId: offer.incidentId });
    return offer.incidentId;
  }

  /**
   * on_scene counts only within `arrivalRadiusM` of the elevator's site, or when a dispatcher confirms it
   * with a reason. The actual travel time then corrects the team's future estimates.
   */
  async arrive(
    offerId: number,
    input: { actor: Actor; lat?: number; lng?: number; confirm?: boolean; reason?: string },
  ): Promise<{ incidentId: number; distanceM: number | null }> {
    const offer = await this.prisma.dispatchOffer.findUnique({
      where: { id: offerId },
      include: { incident: { include: { elevator: { include: { site: true } } } }, team: true },
    });
    if (!offer) throw errors.notFound(`offer ${offerId}`);
    const site = offer.incident.elevator.site;
    const distanceM = input.lat !== undefined && input.lng !== undefined ? Math.round(km(input as { lat: number; lng: number }, site) * 1000) : null;
    const confirmed = input.confirm === true;
    if (!confirmed && (distanceM === null || distanceM > this.arrivalRadiusM)) {
      throw new ApiError(
        422,
        "not_at_site",
        distanceM === null
          ? "a position (lat, lng) or a dispatcher's confirmation with a reason is required"
          : `reported position is ${distanceM} m from the elevator; on scene needs ${this.arrivalRadiusM} m or less, or a dispatcher's confirmation`,
        { distanceM, radiusM: this.arrivalRadiusM },
      );
    }
    const now = this.options.clock();
    const learned = await this.prisma.$transaction(async (tx) => {
      const status = await this.lockIncident(tx, offer.incidentId);
      const current = await tx.dispatchOffer.findUniqueOrThrow({ where: { id: offerId } });
      if (current.status !== "accepted") throw errors.conflict(`offer ${offerId} is ${current.status}; only an accepted offer arrives`);
      if (current.arrivedAt) throw errors.conflict(`offer ${offerId} already arrived at ${current.arrivedAt.toISOString()}`);
      const at = { actor: input.actor, at: now, lat: input.lat, lng: input.lng };
      if (status === "accepted") {
        await transitionIncident(tx, offer.incidentId, "en_route", { ...at, reason: "arrival reported without departure" });
      }
      if (status === "accepted" || status === "en_route") {
        await transitionIncident(tx, offer.incidentId, "on_scene", { ...at, reason: confirmed ? input.reason : "position within arrival radius" });
      } else if (status !== "on_scene" && status !== "released") {
        throw errors.conflict(`incident is ${status}; arrival cannot be recorded`);
      }
      await tx.dispatchOffer.update({ where: { id: offerId }, data: { arrivedAt: now, arrivalLat: input.lat, arrivalLng: input.lng } });
      await appendEvent(tx, offer.incidentId, {
        type: "team_arrived",
        ...at,
        reason: confirmed ? input.reason : undefined,
        data: { offerId, teamId: current.teamId, distanceM, radiusM: this.arrivalRadiusM, confirmedByDispatcher: confirmed },
      });
      await cancelIncidentDeadlines(tx, offer.incidentId, now, ["arrival_warning", "arrival"]);
      // Learning: accepted -> on scene against the estimate, with the team's current correction taken out.
      const team = await tx.team.findUniqueOrThrow({ where: { id: current.teamId } });
      if (!current.respondedAt) return null;
      const actualS = (now.getTime() - current.respondedAt.getTime()) / 1000;
      const next = learnTravelRatio(
        { ratio: team.travelRatio, samples: team.travelSamples },
        { actualS, estimatedS: current.estimatedArrivalS / team.travelRatio },
      );
      await tx.team.update({ where: { id: team.id }, data: { travelRatio: next.ratio, travelSamples: next.samples } });
      return next;
    });
    const live = this.teams.get(offer.teamId);
    if (live) {
      if (learned) Object.assign(live, { travelRatio: learned.ratio, travelSamples: learned.samples });
      if (input.lat !== undefined && input.lng !== undefined) {
        Object.assign(live, { lat: input.lat, lng: input.lng, positionAt: now });
        this.index.touch(live.id);
      }
    }
    this.afterCommit({ teams: [{ id: offer.teamId }], incidentId: offer.incidentId });
    return { incidentId: offer.incidentId, distanceM };
  }

  // ---------------------------------------------------------------- incident end, team state

  /**
   * Frees the teams of an incident that ended (released or closed); stops its deadlines once on scene.
   * `status`: the incident's status as the caller just read it after the commit (null: no such incident),
   * so that it is not read twice; omitted, it is read here.
   */
  async onIncidentChanged(incidentId: number, status?: IncidentStatus | null): Promise<void> {
    const incident =
      status === undefined ? await this.prisma.incident.findUnique({ where: { id: incidentId }, select: { status: true } }) : status && { status };
    if (!incident) return;
    if (incident.status === "on_scene") {
      await cancelIncidentDeadlines(this.prisma, incidentId, this.options.clock(), ["arrival_warning", "arrival"]);
      return;
    }
    if (!ENDED.includes(incident.status)) return;
    const active = await this.prisma.dispatchOffer.findMany({ where: { incidentId, status: { in: [...ACTIVE_OFFER] } } });
    const now = this.options.clock();
    const changed = await this.prisma.$transaction(async (tx) => {
      await this.lockIncident(tx, incidentId);
      await cancelIncidentDeadlines(tx, incidentId, now, ["offer_timeout", "arrival_warning", "arrival"]);
      const out: { id: number; status: TeamStatus; dropOffer: number }[] = [];
      for (const offer of active) {
        const done = await tx.dispatchOffer.updateMany({
          where: { id: offer.id, status: offer.status },
          data: { status: offer.status === "accepted" ? "completed" : "withdrawn" },
        });
        if (done.count === 0) continue;
        out.push({ id: offer.teamId, status: await this.refreshTeamStatus(tx, offer.teamId), dropOffer: offer.id });
      }
      return out;
    });
    if (changed.length) this.afterCommit({ teams: changed });
  }

  async setPosition(teamId: number, input: { lat: number; lng: number; at?: Date }): Promise<TeamView> {
    const team = this.teams.get(teamId);
    if (!team) throw errors.notFound(`team ${teamId}`);
    const at = input.at ?? this.options.clock();
    await this.prisma.team.update({ where: { id: teamId }, data: { lat: input.lat, lng: input.lng, positionAt: at } });
    Object.assign(team, { lat: input.lat, lng: input.lng, positionAt: at });
    this.index.touch(teamId);
    this.afterCommit({ teams: [{ id: teamId }] });
    return presentTeam(team);
  }

  /** available / off_duty / offline by hand; offered and busy follow the team's offers only. */
  async setStatus(teamId: number, status: "available" | "off_duty" | "offline"): Promise<TeamView> {
    const team = this.teams.get(teamId);
    if (!team) throw errors.notFound(`team ${teamId}`);
    const next = await this.prisma.$transaction(async (tx) => {
      await tx.$queryRaw`SELECT id FROM teams WHERE id = ${teamId} FOR UPDATE`;
      const active = await tx.dispatchOffer.count({ where: { teamId, status: { in: [...ACTIVE_OFFER] } } });
      if (active > 0) {
        throw errors.conflict(`team ${teamId} holds ${active} active offer(s); withdraw or finish them first`, { activeOffers: active });
      }
      await tx.team.update({ where: { id: teamId }, data: { status } });
      return status;
    });
    this.afterCommit({ teams: [{ id: teamId, status: next }] });
    return presentTeam(team);
  }

  // ---------------------------------------------------------------- SLA checks (fired by the scheduler)

  /** Best arrival time of the teams on the incident now, from their current (fresh) positions. */
  private estimatedArrivalAt(incident: DispatchIncident, now: Date): Date | null {
    const target = this.targetOf(incident);
    let best: number | null = null;
    for (const offer of incident.offers) {
      if (!ACTIVE_OFFER.includes(offer.status as never)) continue;
      const team = this.teams.get(offer.teamId);
      if (!team) continue;
      const from = this.index.positionOf(team, now.getTime());
      const { etaS } = this.estimator.estimate(from, target, { at: now, detourFactor: target.detourFactor, travelRatio: team.travelRatio });
      best = best === null ? etaS : Math.min(best, etaS);
    }
    return best === null ? null : new Date(now.getTime() + best * 1000);
  }

  /**
   * `phase` warning: if the estimate misses the deadline, warn and add the next tier as a backup.
   * `phase` deadline: nobody on scene in time: record the breach and escalate again.
   */
  async checkArrival(incidentId: number, phase: "warning" | "deadline"): Promise<void> {
    const incident = await this.loadIncident(incidentId);
    if (!incident || !DISPATCHABLE.includes(incident.status)) return;
    const now = this.options.clock();
    const estimatedArrivalAt = this.estimatedArrivalAt(incident, now);
    if (phase === "warning" && !predictsMiss(estimatedArrivalAt, incident.arrivalDeadlineAt)) return;
    const active = incident.offers.filter((o) => ACTIVE_OFFER.includes(o.status as never));
    const reason: SlaAlertView["reason"] =
      phase === "deadline" ? "deadline_missed" : active.length === 0 ? "no_team_available" : "estimate_misses_deadline";
    const alert = (kind: "warning" | "escalated", extra: { tier: number | null; teamId: number | null }): SlaAlertView => ({
      incidentId,
      incidentCode: incident.code,
      kind,
      reason,
      arrivalDeadlineAt: incident.arrivalDeadlineAt.toISOString(),
      estimatedArrivalAt: estimatedArrivalAt?.toISOString() ?? null,
      escalatedToTier: extra.tier,
      escalatedToTeamId: extra.teamId,
      audience: ["dispatcher", "supervisor"],
      at: now.toISOString(),
    });
    await appendEvent(this.prisma, incidentId, {
      type: phase === "warning" ? "sla_warning" : "sla_breached",
      actor: { type: "system", id: "sla" },
      at: now,
      reason,
      data: { arrivalDeadlineAt: incident.arrivalDeadlineAt.toISOString(), estimatedArrivalAt: estimatedArrivalAt?.toISOString() ?? null },
    });
    if (phase === "warning") this.notifySla("sla:warning", alert("warning", { tier: null, teamId: null }));
    const topTier = active.reduce((max, o) => Math.max(max, o.tier), 0);
    const created = await this.dispatchNext(incidentId, { aboveTier: topTier, backup: active.length > 0, reason: `SLA escalation: ${reason}` });
    const offer = created.length ? await this.prisma.dispatchOffer.findUnique({ where: { id: created[0]! } }) : null;
    await appendEvent(this.prisma, incidentId, {
      type: "sla_escalated",
      actor: { type: "system", id: "sla" },
      at: this.options.clock(),
      reason,
      data: { fromTier: topTier, toTier: offer?.tier ?? null, teamId: offer?.teamId ?? null, offerId: offer?.id ?? null },
    });
    this.notifySla("sla:escalated", alert("escalated", { tier: offer?.tier ?? null, teamId: offer?.teamId ?? null }));
    this.events.emit("incident.changed", { incidentId });
  }
}

function presentTeam(team: LiveTeam): TeamView {
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
