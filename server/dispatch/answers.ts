import { ApiError, errors } from "../platform/errors.ts";
import { crashPoint } from "../platform/crash.ts";
import type { Transactional, Work } from "../platform/outbox/unit-of-work.ts";
import type { Actor } from "../incidents/repository/writes.ts";
import type { Offers } from "./offers.ts";
import { ACTIVE_OFFER, type DispatchStore } from "./repository.ts";
import type { TeamBoard, TeamChange } from "./teams.ts";

/**
 * When a rescuer's phone did something, as it reported it: `at` on the phone (it may have been offline),
 * `receivedAt` on the server. The timeline records `at` and keeps `receivedAt` beside it.
 */
export interface ReportedTime {
  at: Date;
  receivedAt: Date;
}

/** The data a timeline entry gets from a reported time. */
export const receivedData = (reported: ReportedTime | undefined) => (reported ? { receivedAt: reported.receivedAt.toISOString() } : {});

interface Answer {
  from: readonly ("offered" | "accepted")[];
  to: "accepted" | "declined" | "expired" | "withdrawn";
  eventType: "offer_accepted" | "offer_declined" | "offer_expired" | "offer_withdrawn";
  actor: Actor;
  reason?: string;
  reported?: ReportedTime;
}

interface Answered {
  incidentId: number;
  activeLeft: number;
  team: TeamChange;
}

/**
 * Answers to offers: a team accepts or declines, an offer times out, a dispatcher withdraws it. When an
 * answer leaves the incident without an active offer, the same transaction records the follow-up
 * (`dispatch.next`), so the next team is offered even if this process dies right after the commit.
 */
export class Answers {
  constructor(
    private readonly repository: DispatchStore,
    private readonly uow: Transactional,
    private readonly teams: TeamBoard,
    private readonly offers: Offers,
    private readonly options: { offerTimeoutS: number; clock: () => Date },
  ) {}

  async accept(offerId: number, actor: Actor, reported?: ReportedTime): Promise<number> {
    const done = await this.answer(offerId, { from: ["offered"], to: "accepted", eventType: "offer_accepted", actor, reported });
    return done!.incidentId;
  }

  async decline(offerId: number, reason: string, actor: Actor, reported?: ReportedTime): Promise<number> {
    const done = await this.answer(offerId, { from: ["offered"], to: "declined", eventType: "offer_declined", actor, reason, reported }, "previous team declined");
    crashPoint("offer:declined");
    return done!.incidentId;
  }

  /** Offer timeout, fired by the SLA scheduler: idempotent, an answered offer is left alone. */
  async expire(offerId: number): Promise<void> {
    const done = await this.answer(
      offerId,
      { from: ["offered"], to: "expired", eventType: "offer_expired", actor: { type: "system", id: "dispatch" }, reason: `no answer within ${this.options.offerTimeoutS} s` },
      "previous offer expired",
    ).catch((error) => {
      if (error instanceof ApiError && error.status === 404) return null;
      throw error;
    });
    if (done) crashPoint("offer:expired");
  }

  /**
   * Dispatcher override: take the offer back and send `reassignTeamId` (in the same transaction: if that
   * team cannot be booked, nothing changes), or let the engine offer the next team.
   */
  async withdraw(offerId: number, input: { reason: string; reassignTeamId?: number; actor: Actor }): Promise<number> {
    const request: Answer = { from: ["offered", "accepted"], to: "withdrawn", eventType: "offer_withdrawn", actor: input.actor, reason: input.reason };
    if (input.reassignTeamId === undefined) {
      const done = await this.answer(offerId, request, "previous offer withdrawn by dispatcher");
      return done!.incidentId;
    }
    const reassignTo = input.reassignTeamId;
    const { answered, made } = await this.uow.run(async (work) => {
      const answered = (await this.answerInTx(work, offerId, request, null))!;
      const made = await this.offers.assignInTx(work, answered.incidentId, reassignTo, {
        actor: input.actor,
        reason: input.reason,
        backup: answered.activeLeft > 0,
      });
      return { answered, made };
    });
    this.teams.apply([answered.team, made.team]);
    return answered.incidentId;
  }

  /** `next`: the reason for offering the next team when this answer leaves none active (null: never). */
  private async answer(offerId: number, request: Answer, next: string | null = null): Promise<Answered | null> {
    const done = await this.uow.run((work) => this.answerInTx(work, offerId, request, next));
    if (done) this.teams.apply([done.team]);
    return done;
  }

  private async answerInTx(work: Work, offerId: number, request: Answer, next: string | null): Promise<Answered | null> {
    const offer = await this.repository.offer(offerId, work.db);
    if (!offer) throw errors.notFound(`offer ${offerId}`);
    const now = request.reported?.at ?? this.options.clock();
    const incident = await this.repository.lockIncident(work.db, offer.incidentId);
    // Read again under the incident's lock: a concurrent answer of the same offer has committed by now.
    const current = (await this.repository.offer(offerId, work.db))!;
    if (!request.from.includes(current.status as never)) {
      if (request.to === "expired") return null; // answered meanwhile: the timeout has nothing to do
      throw errors.conflict(`offer ${offerId} is ${current.status}, not ${request.from.join(" or ")}`, { status: current.status }, "offer_state_changed");
    }
    await this.repository.recordAnswer(work.db, offerId, {
      status: request.to,
      respondedAt: current.status === "offered" ? now : null,
      declineReason: request.to === "declined" ? request.reason : undefined,
    });
    await this.repository.cancelOfferTimeout(work.db, offerId, now);
    await this.repository.appendEvent(work.db, offer.incidentId, {
      type: request.eventType,
      actor: request.actor,
      at: now,
      reason: request.reason,
      data: { offerId, teamId: current.teamId, tier: current.tier, backup: current.backup, ...receivedData(request.reported) },
    });
    // The incident row is locked and unchanged since it was read: the transitions reuse that read.
    if (request.to === "accepted" && incident?.status === "dispatched") {
      await this.repository.transition(work.db, offer.incidentId, "accepted", { actor: request.actor, at: now, reason: "team accepted", data: request.reported ? receivedData(request.reported) : undefined }, incident);
    }
    if (request.to === "withdrawn" && current.status === "accepted" && (incident?.status === "accepted" || incident?.status === "en_route")) {
      if ((await this.repository.countOffers(work.db, offer.incidentId, ["accepted"])) === 0) {
        await this.repository.transition(work.db, offer.incidentId, "dispatched", { actor: request.actor, at: now, reason: request.reason }, incident);
      }
    }
    const teamStatus = await this.repository.refreshTeamStatus(work.db, current.teamId);
    const activeLeft = await this.repository.countOffers(work.db, offer.incidentId, ACTIVE_OFFER);
    work.emit("team.changed", { teamId: current.teamId });
    work.emit("incident.changed", { incidentId: offer.incidentId });
    if (next !== null && activeLeft === 0) work.emit("dispatch.next", { incidentId: offer.incidentId, reason: next });
    return {
      incidentId: offer.incidentId,
      activeLeft,
      team: { id: current.teamId, status: teamStatus, ...(request.to === "accepted" ? {} : { dropOffer: offerId }) },
    };
  }
}
