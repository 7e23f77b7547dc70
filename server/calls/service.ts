import { LOCKS } from "../platform/db/locks.ts";
import type { Prisma, PrismaClient } from "../platform/db/generated/client.ts";
import type { CallView, IncidentView } from "../contracts/index.ts";
import type { UnitOfWork } from "../platform/outbox/unit-of-work.ts";
import { ApiError, errors } from "../platform/errors.ts";
import { appendEvent, openOrAttachIncident, type Actor } from "../incidents/repository/writes.ts";
import { presentCall } from "../incidents/presenter.ts";
import { loadIncidentView } from "../incidents/presenter.ts";
import { ElevatorLookup, nearCodes } from "../elevators/lookup.ts";
import { createElevatorRepository } from "../elevators/repository.ts";

export type TelephonyEventKind = "ringing" | "answered" | "ended";

export interface TelephonyEvent {
  event: TelephonyEventKind;
  callId: string;
  callerNumber?: string;
  line?: string;
  agent?: string;
  recordingRef?: string;
  /** Digits the caller keyed in the IVR. */
  rescueCode?: string;
  at?: string;
}

export interface IncidentRequest {
  rescueCode?: string;
  elevatorId?: number;
  kind: "entrapment" | "fault" | "other";
  trappedCount?: number;
  injuredCount?: number;
  autoDispatch: boolean;
  note?: string;
}

export interface ManualCall {
  callerNumber: string;
  line?: string;
  agent?: string;
  ringingAt?: string;
  answeredAt?: string;
  endedAt?: string;
  notes?: string;
  rescueCode?: string;
  elevatorId?: number;
  openIncident: boolean;
  kind: "entrapment" | "fault" | "other";
  trappedCount?: number;
  injuredCount?: number;
  autoDispatch: boolean;
}

export interface CallOutcome {
  call: CallView;
  incident: IncidentView | null;
  incidentCreated: boolean;
}

const PRUNE_AFTER_MS = 7 * 24 * 3600_000;

/**
 * Calls from the PBX webhook and from dispatchers. Follow-ups (pushes, the offer of a new incident) are
 * outbox rows of the same transaction, so a console never pops a call or incident that was rolled back
 * and a crash after the commit loses none of them.
 */
export class CallService {
  private readonly lookup: ElevatorLookup;
  private deliveries = 0;

  constructor(
    private readonly prisma: PrismaClient,
    private readonly uow: UnitOfWork,
    private readonly clock: () => Date,
    private readonly incidentPolicy: { mergeWindowMs: number },
  ) {
    this.lookup = new ElevatorLookup(createElevatorRepository(prisma));
  }

  async telephonyEvent(input: TelephonyEvent, signature: string): Promise<{ call: CallView; duplicate: boolean }> {
    const now = this.clock();
    const at = input.at ? new Date(input.at) : now;
    const result = await this.uow.run(async ({ db: tx, emit }) => {
      const changed = (callId: number) => emit("call.changed", { callId, event: input.event });
      const inserted = (await tx.$queryRaw`
        INSERT INTO telephony_deliveries (signature, "callId", event, "receivedAt")
        VALUES (${signature}, ${input.callId}, ${input.event}, ${now})
        ON CONFLICT (signature) DO NOTHING RETURNING id`) as { id: number }[];
      if (!inserted.length) throw new ApiError(409, "replayed", "this delivery (same signature) was already received");
      // Serialise deliveries of one call so ringing and answered racing each other create one row.
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(${LOCKS.callDelivery}::int, hashtext(${input.callId}))`;
      const earlier = await tx.telephonyDelivery.count({
        where: { callId: input.callId, event: input.event, id: { not: inserted[0]!.id } },
      });
      const existing = await tx.call.findUnique({ where: { externalId: input.callId } });
      if (earlier > 0 && existing) return { call: existing, duplicate: true };

      const elevatorId = input.rescueCode ? await this.elevatorIdFor(tx, input.rescueCode) : undefined;
      const common = {
        ...(input.line !== undefined ? { line: input.line } : {}),
        ...(input.agent !== undefined ? { agent: input.agent } : {}),
        ...(input.recordingRef !== undefined ? { recordingRef: input.recordingRef } : {}),
        ...(input.rescueCode !== undefined ? { rescueCode: input.rescueCode } : {}),
        ...(elevatorId ? { elevatorId } : {}),
      };
      const times =
        input.event === "answered" ? { answeredAt: at } : input.event === "ended" ? { endedAt: at } : { ringingAt: at };
      if (existing) {
        const call = await tx.call.update({
          where: { id: existing.id },
          // Out-of-order delivery: an answer must not be erased by a late ringing, only fill what is missing.
          data: { ...common, ...(input.event === "ringing" ? {} : times) },
        });
        changed(call.id);
        return { call, duplicate: false };
      }
      if (!input.callerNumber) {
        throw new ApiError(400, "validation_failed", `callerNumber is required for the first event of call ${input.callId}`);
      }
      const call = await tx.call.create({
        data: { externalId: input.callId, callerNumber: input.callerNumber, source: "pbx", ringingAt: at, ...common, ...times },
      });
      changed(call.id);
      return { call, duplicate: false };
    });
    if (++this.deliveries % 200 === 0) {
      // Signatures older than the 5-minute window can no longer be replayed; keep a week for PBX retries.
      await this.prisma.telephonyDelivery.deleteMany({ where: { receivedAt: { lt: new Date(now.getTime() - PRUNE_AFTER_MS) } } });
    }
    return { call: presentCall(result.call), duplicate: result.duplicate };
  }

  async createManual(input: ManualCall, actor: Actor): Promise<CallOutcome> {
    const now = this.clock();
    const ringingAt = input.ringingAt ? new Date(input.ringingAt) : now;
    // Resolve before writing: an unknown code must not leave a half-entered call behind when an
    // incident was asked for.
    const elevatorId = input.openIncident ? await this.resolveElevator(input) : undefined;
    const call = await this.uow.run(async ({ db, emit }) => {
      const created = await db.call.create({
      data: {
        callerNumber: input.callerNumber,
        source: "manual",
        createdBy: actor.id,
        line: input.line,
        agent: input.agent,
        ringingAt,
        answeredAt: input.answeredAt ? new Date(input.answeredAt) : input.ringingAt ? null : now,
        endedAt: input.endedAt ? new Date(input.endedAt) : null,
        notes: input.notes,
        rescueCode: input.rescueCode,
        elevatorId: elevatorId ?? input.elevatorId,
      },
      });
      // With an incident asked for, the call's push goes out with the incident's transaction below.
      if (!input.openIncident) emit("call.changed", { callId: created.id, event: "updated" });
      return created;
    });
    if (!input.openIncident) {
      return { call: presentCall(call), incident: null, incidentCreated: false };
    }
    return this.openIncident(call.id, { ...input, elevatorId }, actor);
  }

  /** Links a call to its elevator and opens the incident, or attaches the call to the one already open. */
  async openIncident(callId: number, request: IncidentRequest, actor: Actor): Promise<CallOutcome> {
    const elevatorId = await this.resolveElevator(request);
    const outcome = await this.uow.run(async ({ db: tx, emit }) => {
      const call = await tx.call.findUnique({ where: { id: callId } });
      if (!call) throw errors.notFound(`call ${callId}`);
      if (call.incidentId !== null) {
        throw new ApiError(409, "call_already_linked", `call ${callId} already belongs to incident ${call.incidentId}`, { incidentId: call.incidentId });
      }
      // First report = the call answered (DESIGN.md); a call entered after the fact keeps its own times.
      const reportedAt = call.answeredAt ?? call.ringingAt;
      const data = { callId: call.id, callerNumber: call.callerNumber, ...(call.externalId ? { externalId: call.externalId } : {}) };
      const opened = await openOrAttachIncident(tx, {
        elevatorId,
        kind: request.kind,
        source: "call",
        reportedAt,
        actor,
        reason: request.note ?? "96333 call",
        data,
      }, this.incidentPolicy);
      if (!opened.created) {
        await appendEvent(tx, opened.incidentId, { type: "call_attached", actor, at: this.clock(), reason: request.note, data });
      }
      const counts = {
        ...(request.trappedCount !== undefined ? { trappedCount: request.trappedCount } : {}),
        ...(request.injuredCount !== undefined ? { injuredCount: request.injuredCount } : {}),
      };
      if (Object.keys(counts).length) await tx.incident.update({ where: { id: opened.incidentId }, data: counts });
      const updated = await tx.call.update({ where: { id: callId }, data: { elevatorId, incidentId: opened.incidentId } });
      if (opened.created) emit("incident.opened", { incidentId: opened.incidentId, autoDispatch: request.autoDispatch });
      else emit("incident.changed", { incidentId: opened.incidentId });
      emit("call.changed", { callId, event: "updated" });
      return { call: updated, ...opened };
    });
    return {
      call: presentCall(outcome.call),
      incident: await loadIncidentView(this.prisma, outcome.incidentId),
      incidentCreated: outcome.created,
    };
  }

  private async elevatorIdFor(db: Prisma.TransactionClient | PrismaClient, rescueCode: string): Promise<number | undefined> {
    const e = await db.elevator.findUnique({ where: { rescueCode }, select: { id: true } });
    return e?.id;
  }

  private async resolveElevator(request: { rescueCode?: string; elevatorId?: number }): Promise<number> {
    if (request.elevatorId !== undefined) {
      const e = await this.prisma.elevator.findUnique({ where: { id: request.elevatorId }, select: { id: true } });
      if (!e) throw errors.notFound(`elevator ${request.elevatorId}`);
      return e.id;
    }
    if (!request.rescueCode) throw new ApiError(400, "validation_failed", "an incident needs rescueCode or elevatorId");
    const id = await this.elevatorIdFor(this.prisma, request.rescueCode);
    if (id) return id;
    const close = await this.lookup.byCodes("rescueCode", nearCodes(request.rescueCode), 10);
    throw new ApiError(
      404,
      "unknown_rescue_code",
      `没有救援识别码为 ${request.rescueCode} 的电梯 (no elevator has rescue code ${request.rescueCode})` +
        (close.length ? `; close matches: ${close.map((c) => `${c.rescueCode} ${c.siteName} ${c.unitNo}`).join(", ")}` : ""),
      { closeMatches: close.map((c) => ({ id: c.id, rescueCode: c.rescueCode, siteName: c.siteName, address: c.address, unitNo: c.unitNo })) },
    );
  }

  async get(id: number): Promise<CallView | null> {
    const call = await this.prisma.call.findUnique({ where: { id } });
    return call ? presentCall(call) : null;
  }

  async list(filter: { active: boolean; callerNumber?: string; limit: number }): Promise<CallView[]> {
    const rows = await this.prisma.call.findMany({
      where: { ...(filter.active ? { endedAt: null } : {}), ...(filter.callerNumber ? { callerNumber: filter.callerNumber } : {}) },
      orderBy: { ringingAt: "desc" },
      take: filter.limit,
    });
    return rows.map(presentCall);
  }
}
