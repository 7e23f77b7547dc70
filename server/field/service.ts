import type { IncidentView, PhotoUpload, PhotoView, PositionReport, TeamView } from "../contracts/index.ts";
import {
  MAX_CLOCK_AHEAD_MS,
  MAX_PHOTO_BYTES,
  positionProblem,
  type FieldAction,
} from "../contracts/field.ts";
import type { SessionUser } from "../auth/roles.ts";
import { actorOfUser } from "../auth/scopes.ts";
import type { Dispatch } from "../dispatch/index.ts";
import type { ReportedTime } from "../dispatch/answers.ts";
import { DeviceRateLimiter } from "../devices/edge.ts";
import { applyTransition, recordStep } from "../incidents/commands.ts";
import { appendEvent } from "../incidents/repository/writes.ts";
import type { IncidentReads } from "../incidents/repository/reads.ts";
import { ApiError, errors } from "../platform/errors.ts";
import type { UnitOfWork } from "../platform/outbox/unit-of-work.ts";
import type { FieldOffer, FieldRepository, PhotoRow } from "./repository.ts";
import { photoFormatProblem } from "./photos.ts";

export interface FieldOptions {
  clock: () => Date;
  /** Sustained position reports per second per team, and how many may come at once. */
  positionRatePerS: number;
  positionBurst: number;
  /** A claim older than this without an answer belongs to a delivery that died: a replay takes it over. */
  abandonedClaimMs: number;
  /** A position taken longer ago than this no longer says where the team is. */
  positionMaxAgeMs: number;
}

export const defaultFieldOptions: Omit<FieldOptions, "clock"> = {
  positionRatePerS: 0.5,
  positionBurst: 3,
  abandonedClaimMs: 60_000,
  positionMaxAgeMs: 10 * 60_000,
};

/** What a phone action answered: the incident as it is now. */
export interface FieldAnswer {
  incident: IncidentView;
}

export const presentPhoto = (row: PhotoRow): PhotoView => ({
  id: row.id,
  incidentId: row.incidentId,
  offerId: row.offerId,
  teamId: row.teamId,
  takenAt: row.takenAt.toISOString(),
  receivedAt: row.receivedAt.toISOString(),
  lat: row.lat,
  lng: row.lng,
  contentType: row.contentType,
  sizeBytes: row.sizeBytes,
  url: `/api/photos/${row.id}`,
});

/**
 * What a rescuer's phone does, checked the same way whether it is sent at once or replayed after the
 * phone was offline: the offer must be the rescuer's own team's, the time it happened must lie between
 * the offer and now, and an idempotency key makes a second delivery of the same action change nothing.
 * The steps themselves are the dispatch and incident commands the console uses too.
 */
export class FieldService {
  private readonly positionLimiter: DeviceRateLimiter;

  constructor(
    private readonly repository: FieldRepository,
    private readonly dispatch: Dispatch,
    private readonly reads: IncidentReads,
    private readonly uow: UnitOfWork,
    private readonly options: FieldOptions,
  ) {
    this.positionLimiter = new DeviceRateLimiter(options.positionRatePerS, options.positionBurst, () => options.clock().getTime());
  }

  private teamOf(user: SessionUser): number {
    if (user.teamId === null) throw new ApiError(403, "no_team", `${user.username} belongs to no team`);
    return user.teamId;
  }

  /** The offer, when it is the user's team's: 404 when there is no such offer, 403 when it is another team's. */
  private async ownOffer(user: SessionUser, offerId: number): Promise<FieldOffer> {
    const teamId = this.teamOf(user);
    const offer = await this.repository.offer(offerId);
    if (!offer) throw errors.notFound(`offer ${offerId}`);
    if (offer.teamId !== teamId) throw new ApiError(403, "not_your_team", `offer ${offerId} was made to another team`);
    return offer;
  }

  /** When it happened: not ahead of the server's clock (beyond a phone's drift), not before the offer was made. */
  private reportedTime(at: string, offer: FieldOffer, receivedAt: Date): ReportedTime {
    const happened = new Date(at);
    if (happened.getTime() > receivedAt.getTime() + MAX_CLOCK_AHEAD_MS) {
      throw new ApiError(400, "time_in_future", `the action's time (${at}) lies in the future`);
    }
    if (happened.getTime() < offer.offeredAt.getTime() - MAX_CLOCK_AHEAD_MS) {
      throw new ApiError(400, "time_before_offer", `the action's time (${at}) is before the offer was made (${offer.offeredAt.toISOString()})`);
    }
    // A phone clock a little behind the server's would put the answer before the offer: not before it.
    const clamped = new Date(Math.max(happened.getTime(), offer.offeredAt.getTime()));
    return { at: clamped, receivedAt };
  }

  /**
   * Runs `perform` once per idempotency key. A key seen before answers 409 `already_recorded` with what the
   * first delivery answered (the app counts that as sent); a key still being handled answers 409
   * `in_progress`. A refused or failed action forgets its key: nothing was recorded, a retry may try again.
   */
  private async once<T>(
    user: SessionUser,
    claim: { key: string; kind: string; offerId: number; happenedAt: Date; receivedAt: Date },
    perform: () => Promise<T>,
  ): Promise<T> {
    const teamId = this.teamOf(user);
    const record = { ...claim, userId: user.id, teamId };
    if (!(await this.repository.claim(record))) {
      const stored = await this.repository.stored(claim.key);
      if (!stored) throw new ApiError(409, "in_progress", "this action is being recorded right now; try again shortly");
      if (stored.userId !== user.id || stored.kind !== claim.kind) {
        throw new ApiError(422, "key_reused", "this idempotency key belongs to a different action");
      }
      if (stored.status !== null) {
        throw new ApiError(409, "already_recorded", `this action was already recorded at ${stored.receivedAt.toISOString()}; nothing changed`, {
          firstReceivedAt: stored.receivedAt.toISOString(),
          answer: stored.response,
        });
      }
      const abandonedBefore = new Date(claim.receivedAt.getTime() - this.options.abandonedClaimMs);
      if (!(await this.repository.reclaim(claim.key, abandonedBefore, claim.receivedAt))) {
        throw new ApiError(409, "in_progress", "this action is being recorded right now; try again shortly");
      }
    }
    try {
      const answer = await perform();
      await this.repository.complete(claim.key, { status: 200, response: answer, at: this.options.clock() });
      return answer;
    } catch (error) {
      await this.repository.release(claim.key);
      throw error;
    }
  }

  async act(user: SessionUser, action: FieldAction): Promise<FieldAnswer> {
    const receivedAt = this.options.clock();
    const offer = await this.ownOffer(user, action.offerId);
    const reported = this.reportedTime(action.at, offer, receivedAt);
    const position = "position" in action ? action.position : undefined;
    if (position) {
      const problem = positionProblem({ ...position, at: reported.at }, null);
      if (problem) throw new ApiError(422, problem.id, problem.message);
    }
    const actor = actorOfUser(user);
    const claim = { key: action.key, kind: action.kind, offerId: offer.id, happenedAt: reported.at, receivedAt };
    return this.once(user, claim, async () => {
      const { answers, arrival } = this.dispatch;
      let incidentId = offer.incidentId;
      switch (action.kind) {
        case "accept":
          incidentId = await answers.accept(offer.id, actor, reported);
          break;
        case "decline":
          incidentId = await answers.decline(offer.id, action.reason, actor, reported);
          break;
        case "depart":
          incidentId = await arrival.depart(offer.id, { actor, lat: position?.lat, lng: position?.lng, reported });
          break;
        case "arrive":
          incidentId = (await arrival.arrive(offer.id, { actor, lat: action.position.lat, lng: action.position.lng, reported })).incidentId;
          break;
        case "freed": {
          const current = await this.repository.offer(offer.id);
          if (current?.status !== "accepted") throw errors.conflict(`offer ${offer.id} is ${current?.status}; only the team on the incident frees its passengers`);
          await applyTransition(this.uow, incidentId, {
            to: "released",
            actor,
            at: reported.at,
            receivedAt,
            reason: "passengers freed",
            lat: position?.lat,
            lng: position?.lng,
            trappedCount: action.freedCount,
            injuredCount: action.injuredCount,
          });
          break;
        }
        case "note":
          await recordStep(this.uow, incidentId, { type: "note", actor, at: reported.at, receivedAt, note: action.text, lat: position?.lat, lng: position?.lng });
          break;
      }
      const incident = await this.reads.view(incidentId);
      if (!incident) throw errors.notFound(`incident ${incidentId}`);
      return { incident };
    });
  }

  /**
   * The team's live position from its phone: inside China, accurate enough, not a jump no vehicle makes
   * from the last accepted fix, not older than the last one, and at most a few a second per team (429).
   */
  async reportPosition(user: SessionUser, report: PositionReport): Promise<TeamView> {
    const teamId = this.teamOf(user);
    const now = this.options.clock();
    const at = new Date(report.at);
    if (at.getTime() > now.getTime() + MAX_CLOCK_AHEAD_MS) throw new ApiError(400, "time_in_future", `the position's time (${report.at}) lies in the future`);
    if (at.getTime() < now.getTime() - this.options.positionMaxAgeMs) {
      throw new ApiError(400, "position_too_old", `the position was taken at ${report.at}, too long ago to show where the team is`);
    }
    const team = this.dispatch.teams.view(teamId);
    if (!team) throw errors.notFound(`team ${teamId}`);
    const last = team.positionAt ? { lat: team.lat, lng: team.lng, at: new Date(team.positionAt) } : null;
    if (last && at.getTime() <= last.at.getTime()) {
      throw new ApiError(409, "position_out_of_order", `a newer position (${last.at.toISOString()}) is already recorded`);
    }
    const problem = positionProblem({ lat: report.lat, lng: report.lng, accuracyM: report.accuracyM, at }, last);
    if (problem) throw new ApiError(422, problem.id, problem.message);
    if (!this.positionLimiter.take(String(teamId))) {
      throw new ApiError(429, "too_many_positions", `at most ${this.options.positionRatePerS} positions a second per team; this one was not recorded`);
    }
    return this.dispatch.teams.setPosition(teamId, { lat: report.lat, lng: report.lng, at });
  }

  /** A photo from the scene: the team's own offer, an image of an accepted type and size, then a timeline entry. */
  async addPhoto(user: SessionUser, upload: PhotoUpload): Promise<PhotoView> {
    const receivedAt = this.options.clock();
    const offer = await this.ownOffer(user, upload.offerId);
    const reported = this.reportedTime(upload.at, offer, receivedAt);
    const bytes = Buffer.from(upload.data, "base64");
    if (bytes.length > MAX_PHOTO_BYTES) {
      throw new ApiError(413, "photo_too_large", `the photo has ${bytes.length} bytes; at most ${MAX_PHOTO_BYTES} are accepted`);
    }
    const formatProblem = photoFormatProblem(bytes, upload.contentType);
    if (formatProblem) throw new ApiError(415, "not_an_image", formatProblem);
    if (upload.position) {
      const problem = positionProblem({ ...upload.position, at: reported.at }, null);
      if (problem) throw new ApiError(422, problem.id, problem.message);
    }
    const claim = { key: upload.key, kind: "photo", offerId: offer.id, happenedAt: reported.at, receivedAt };
    return this.once(user, claim, () =>
      this.uow.run(async (work) => {
        const row = await this.repository.addPhoto(work.db, {
          incidentId: offer.incidentId,
          offerId: offer.id,
          teamId: offer.teamId,
          uploadedBy: user.username,
          takenAt: reported.at,
          receivedAt,
          lat: upload.position?.lat ?? null,
          lng: upload.position?.lng ?? null,
          contentType: upload.contentType,
          sizeBytes: bytes.length,
          data: bytes.toString("base64"),
        });
        await appendEvent(work.db, offer.incidentId, {
          type: "photo",
          actor: actorOfUser(user),
          at: reported.at,
          lat: upload.position?.lat,
          lng: upload.position?.lng,
          data: { photoId: row.id, offerId: offer.id, teamId: offer.teamId, contentType: row.contentType, sizeBytes: row.sizeBytes, receivedAt: receivedAt.toISOString() },
        });
        work.emit("incident.changed", { incidentId: offer.incidentId });
        return presentPhoto(row);
      }),
    );
  }
}
