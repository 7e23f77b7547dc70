import { distance as greatCircleKm } from "geokdbush";
import type { SlaAlertView } from "../contracts/index.ts";
import { ApiError, errors } from "../platform/errors.ts";
import type { Transactional } from "../platform/outbox/unit-of-work.ts";
import type { Actor } from "../incidents/repository/writes.ts";
import type { IncidentStatus } from "../incidents/lifecycle.ts";
import { predictsMiss } from "../sla/deadlines.ts";
import { learnTravelRatio } from "./estimator.ts";
import { DISPATCHABLE, targetOf, type Offers } from "./offers.ts";
import { ACTIVE_OFFER, type DispatchIncident, type DispatchStore } from "./repository.ts";
import type { TeamBoard, TeamChange } from "./teams.ts";
import { receivedData, type ReportedTime } from "./answers.ts";

const ENDED: readonly IncidentStatus[] = ["released", "closed", "cancelled", "false_alarm"];
const SLA_ACTOR: Actor = { type: "system", id: "sla" };

export interface ArrivalOptions {
  /** A reported position this close to the elevator counts as on scene. */
  arrivalRadiusM: number;
  clock: () => Date;
}

/**
 * The team on its way and on scene: departure, arrival checked against the elevator's position (which
 * also teaches the team's travel ratio), the SLA checks of the arrival deadline, and freeing the teams
 * once the incident ended.
 */
export class Arrival {
  constructor(
    private readonly repository: DispatchStore,
    private readonly uow: Transactional,
    private readonly teams: TeamBoard,
    private readonly offers: Offers,
    private readonly options: ArrivalOptions,
  ) {}

  /** The accepted team sets off: accepted -> en_route. */
  async depart(offerId: number, input: { actor: Actor; lat?: number; lng?: number; reported?: ReportedTime }): Promise<number> {
    return this.uow.run(async (work) => {
      const offer = await this.repository.offer(offerId, work.db);
      if (!offer) throw errors.notFound(`offer ${offerId}`);
      const now = input.reported?.at ?? this.options.clock();
      const locked = await this.repository.lockIncident(work.db, offer.incidentId);
      const current = (await this.repository.offer(offerId, work.db))!;
      if (current.status !== "accepted") throw errors.conflict(`offer ${offerId} is ${current.status}; only an accepted offer departs`, { status: current.status }, "offer_state_changed");
      if (locked?.status === "accepted") {
        await this.repository.transition(
          work.db,
          offer.incidentId,
          "en_route",
          { actor: input.actor, at: now, lat: input.lat, lng: input.lng, reason: "team departed", data: { offerId, teamId: current.teamId, ...receivedData(input.reported) } },
          locked,
        );
      } else {
        await this.repository.appendEvent(work.db, offer.incidentId, {
          type: "team_departed",
          actor: input.actor,
          at: now,
          lat: input.lat,
          lng: input.lng,
          data: { offerId, teamId: current.teamId, ...receivedData(input.reported) },
        });
      }
      work.emit("incident.changed", { incidentId: offer.incidentId });
      return offer.incidentId;
    });
  }

  /**
   * on_scene counts only within `arrivalRadiusM` of the elevator's site, or when a dispatcher confirms it
   * with a reason. The actual travel time then corrects the team's future estimates.
   */
  async arrive(
    offerId: number,
    input: { actor: Actor; lat?: number; lng?: number; confirm?: boolean; reason?: string; reported?: ReportedTime },
  ): Promise<{ incidentId: number; distanceM: number | null }> {
    const site = await this.repository.siteOfOffer(offerId);
    if (!site) throw errors.notFound(`offer ${offerId}`);
    const radiusM = this.options.arrivalRadiusM;
    const distanceM =
      input.lat !== undefined && input.lng !== undefined ? Math.round(greatCircleKm(input.lng, input.lat, site.lng, site.lat) * 1000) : null;
    const confirmed = input.confirm === true;
    if (!confirmed && (distanceM === null || distanceM > radiusM)) {
      throw new ApiError(
        422,
        "not_at_site",
        distanceM === null
          ? "a position (lat, lng) or a dispatcher's confirmation with a reason is required"
          : `reported position is ${distanceM} m from the elevator; on scene needs ${radiusM} m or less, or a dispatcher's confirmation`,
        { distanceM, radiusM },
      );
    }
    const now = input.reported?.at ?? this.options.clock();
    const team: TeamChange = await this.uow.run(async (work) => {
      const locked = await this.repository.lockIncident(work.db, site.incidentId);
      const status = locked?.status;
      const current = (await this.repository.offer(offerId, work.db))!;
      if (current.status !== "accepted") throw errors.conflict(`offer ${offerId} is ${current.status}; only an accepted offer arrives`, { status: current.status }, "offer_state_changed");
      if (current.arrivedAt) throw errors.conflict(`offer ${offerId} already arrived at ${current.arrivedAt.toISOString()}`, undefined, "offer_state_changed");
      const at = { actor: input.actor, at: now, lat: input.lat, lng: input.lng };
      if (status === "accepted") {
        await this.repository.transition(work.db, site.incidentId, "en_route", { ...at, reason: "arrival reported without departure" });
      }
      if (status === "accepted" || status === "en_route") {
        await this.repository.transition(work.db, site.incidentId, "on_scene", { ...at, reason: confirmed ? input.reason : "position within arrival radius" });
      } else if (status !== "on_scene" && status !== "released") {
        throw errors.conflict(`incident is ${status}; arrival cannot be recorded`, { status }, "incident_not_dispatchable");
      }
      await this.repository.recordArrival(work.db, offerId, now, input);
      await this.repository.appendEvent(work.db, site.incidentId, {
        type: "team_arrived",
        ...at,
        reason: confirmed ? input.reason : undefined,
        data: { offerId, teamId: current.teamId, distanceM, radiusM, confirmedByDispatcher: confirmed, ...receivedData(input.reported) },
      });
      await this.repository.cancelIncidentDeadlines(work.db, site.incidentId, now, ["arrival_warning", "arrival"]);
      work.emit("team.changed", { teamId: current.teamId });
      work.emit("incident.changed", { incidentId: site.incidentId });
      const change: TeamChange = {
        id: current.teamId,
        ...(input.lat !== undefined && input.lng !== undefined ? { position: { lat: input.lat, lng: input.lng, at: now } } : {}),
      };
      if (input.lat !== undefined && input.lng !== undefined) {
        await this.repository.setTeamPosition(work.db, current.teamId, { lat: input.lat, lng: input.lng, at: now });
      }
      // Learning: accepted -> on scene against the estimate, with the team's current correction taken out.
      if (!current.respondedAt) return change;
      const travel = await this.repository.teamTravel(work.db, current.teamId);
      const learned = learnTravelRatio(travel, {
        actualS: (now.getTime() - current.respondedAt.getTime()) / 1000,
        estimatedS: current.estimatedArrivalS / travel.ratio,
      });
      await this.repository.setTeamTravel(work.db, current.teamId, learned);
      return { ...change, travel: learned };
    });
    this.teams.apply([team]);
    return { incidentId: site.incidentId, distanceM };
  }

  /**
   * The follow-up of every incident change: once on scene its arrival deadlines stop; once ended its
   * teams are freed (accepted offers completed, pending ones withdrawn). Idempotent.
   */
  async onIncidentChanged(incidentId: number, status?: IncidentStatus | null): Promise<void> {
    const current = status === undefined ? await this.repository.incidentStatus(incidentId) : status;
    if (!current) return;
    const now = this.options.clock();
    if (current === "on_scene") {
      await this.uow.run((work) => this.repository.cancelIncidentDeadlines(work.db, incidentId, now, ["arrival_warning", "arrival"]));
      return;
    }
    if (!ENDED.includes(current)) return;
    const changes = await this.uow.run(async (work) => {
      await this.repository.lockIncident(work.db, incidentId);
      await this.repository.cancelIncidentDeadlines(work.db, incidentId, now, ["offer_timeout", "arrival_warning", "arrival"]);
      const ended = await this.repository.endActiveOffers(work.db, incidentId);
      const out: TeamChange[] = [];
      for (const teamId of new Set(ended.map((o) => o.teamId))) {
        out.push({ id: teamId, status: await this.repository.refreshTeamStatus(work.db, teamId) });
        work.emit("team.changed", { teamId });
      }
      for (const offer of ended) out.push({ id: offer.teamId, dropOffer: offer.id });
      return out;
    });
    this.teams.apply(changes);
  }

  /** Best arrival time of the teams on the incident now, from their current (fresh) positions. */
  private estimatedArrivalAt(incident: DispatchIncident, now: Date): Date | null {
    const target = targetOf(incident);
    let best: number | null = null;
    for (const offer of incident.offers) {
      if (!(ACTIVE_OFFER as readonly string[]).includes(offer.status)) continue;
      const team = this.teams.get(offer.teamId);
      if (!team) continue;
      const { etaS } = this.teams.estimate(team, target, now);
      best = best === null ? etaS : Math.min(best, etaS);
    }
    return best === null ? null : new Date(now.getTime() + best * 1000);
  }

  /**
   * `warning`: if the estimate misses the deadline, warn and add the next tier as a backup.
   * `deadline`: nobody on scene in time: record the breach and escalate again.
   * Run once per deadline row: a redelivery after the escalation was recorded does nothing.
   */
  async checkArrival(incidentId: number, phase: "warning" | "deadline", deadlineId: number | null = null): Promise<void> {
    if (deadlineId !== null && (await this.repository.escalationRecorded(incidentId, deadlineId))) return;
    const incident = await this.repository.loadIncident(incidentId);
    if (!incident || !DISPATCHABLE.includes(incident.status)) return;
    const now = this.options.clock();
    const estimatedArrivalAt = this.estimatedArrivalAt(incident, now);
    if (phase === "warning" && !predictsMiss(estimatedArrivalAt, incident.arrivalDeadlineAt)) return;
    const active = incident.offers.filter((o) => (ACTIVE_OFFER as readonly string[]).includes(o.status));
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
    const deadline = { arrivalDeadlineAt: incident.arrivalDeadlineAt.toISOString(), estimatedArrivalAt: estimatedArrivalAt?.toISOString() ?? null };
    // A retry after a later step failed does not record (or push) the warning or breach a second time.
    const eventType = phase === "warning" ? "sla_warning" : "sla_breached";
    if (deadlineId === null || !(await this.repository.escalationRecorded(incidentId, deadlineId, eventType))) {
      await this.uow.run(async (work) => {
        await this.repository.appendEvent(work.db, incidentId, { type: eventType, actor: SLA_ACTOR, at: now, reason, data: { ...deadline, deadlineId } });
        if (phase === "warning") work.emit("sla.alert", { event: "sla:warning", alert: alert("warning", { tier: null, teamId: null }) });
        work.emit("incident.changed", { incidentId });
      });
    }
    const topTier = active.reduce((max, o) => Math.max(max, o.tier), 0);
    const created = await this.offers.dispatchNext(incidentId, { aboveTier: topTier, backup: active.length > 0, reason: `SLA escalation: ${reason}` });
    const offer = created.length ? await this.repository.offer(created[0]!) : null;
    await this.uow.run(async (work) => {
      await this.repository.appendEvent(work.db, incidentId, {
        type: "sla_escalated",
        actor: SLA_ACTOR,
        at: this.options.clock(),
        reason,
        data: { fromTier: topTier, toTier: offer?.tier ?? null, teamId: offer?.teamId ?? null, offerId: offer?.id ?? null, deadlineId },
      });
      work.emit("sla.alert", { event: "sla:escalated", alert: alert("escalated", { tier: offer?.tier ?? null, teamId: offer?.teamId ?? null }) });
      work.emit("incident.changed", { incidentId });
    });
  }
}
