import type { CallView, IncidentView } from "../contracts/index.ts";
import type { Transactional } from "../platform/outbox/unit-of-work.ts";
import { ApiError, errors } from "../platform/errors.ts";
import type { Actor } from "../incidents/repository/writes.ts";
import { presentCall } from "../incidents/presenter.ts";
import { nearCodes, type ElevatorLookup } from "../elevators/lookup.ts";
import type { CallStore } from "./repository.ts";
import { applyTelephonyEvent, firstTimes, type TelephonyEventKind } from "./lifecycle.ts";

export type { TelephonyEventKind };

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
  private deliveries = 0;

  constructor(
    private readonly calls: CallStore,
    private readonly uow: Transactional,
    /** Close matches for a misheard rescue code. */
    private readonly lookup: Pick<ElevatorLookup, "byCodes">,
    /** The incident a call opened or joined, as consoles see it. */
    private readonly incidents: { view(id: number): Promise<IncidentView | null> },
    private readonly clock: () => Date,
    private readonly incidentPolicy: { mergeWindowMs: number },
  ) {}

  async telephonyEvent(input: TelephonyEvent, signature: string): Promise<{ call: CallView; duplicate: boolean }> {
    const now = this.clock();
    const at = input.at ? new Date(input.at) : now;
    const result = await this.uow.run(async ({ db: tx, emit }) => {
      // Hold and resume reach consoles as an update of the call.
      const pushed = input.event === "held" || input.event === "resumed" ? "updated" : input.event;
      const changed = (callId: number) => emit("call.changed", { callId, event: pushed });
      const deliveryId = await this.calls.recordDelivery(tx, { signature, callId: input.callId, event: input.event, receivedAt: now });
      if (deliveryId === null) throw new ApiError(409, "replayed", "this delivery (same signature) was already received");
      await this.calls.lockCallDeliveries(tx, input.callId);
      const earlier = await this.calls.countDeliveries(tx, input.callId, input.event, deliveryId);
      const existing = await this.calls.byExternalId(tx, input.callId);
      if (earlier > 0 && existing) return { call: existing, duplicate: true };

      const elevatorId = input.rescueCode ? ((await this.calls.elevatorIdByRescueCode(input.rescueCode, tx)) ?? undefined) : undefined;
      const common = {
        ...(input.line !== undefined ? { line: input.line } : {}),
        ...(input.agent !== undefined ? { agent: input.agent } : {}),
        ...(input.recordingRef !== undefined ? { recordingRef: input.recordingRef } : {}),
        ...(input.rescueCode !== undefined ? { rescueCode: input.rescueCode } : {}),
        ...(elevatorId ? { elevatorId } : {}),
      };
      if (existing) {
        // Out-of-order delivery: each time only moves one way, so a late ringing cannot erase an answer.
        const call = await this.calls.update(tx, existing.id, { ...common, ...applyTelephonyEvent(existing, input.event, at) });
        changed(call.id);
        return { call, duplicate: false };
      }
      if (!input.callerNumber) {
        throw new ApiError(400, "validation_failed", `callerNumber is required for the first event of call ${input.callId}`);
      }
      const call = await this.calls.create(tx, {
        externalId: input.callId,
        callerNumber: input.callerNumber,
        source: "pbx",
        ...common,
        ...firstTimes(input.event, at),
      });
      changed(call.id);
      return { call, duplicate: false };
    });
    if (++this.deliveries % 200 === 0) {
      // Signatures older than the 5-minute window can no longer be replayed; keep a week for PBX retries.
      await this.calls.pruneDeliveries(new Date(now.getTime() - PRUNE_AFTER_MS));
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
      const created = await this.calls.create(db, {
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
      const call = await this.calls.byId(callId, tx);
      if (!call) throw errors.notFound(`call ${callId}`);
      if (call.incidentId !== null) {
        const incidentCode = await this.calls.incidentCode(tx, call.incidentId);
        throw new ApiError(409, "call_already_linked", `call ${callId} already belongs to incident ${call.incidentId}`, { incidentId: call.incidentId, incidentCode });
      }
      // First report = the call answered (docs/design.md); a call entered after the fact keeps its own times.
      const reportedAt = call.answeredAt ?? call.ringingAt;
      const data = { callId: call.id, callerNumber: call.callerNumber, ...(call.externalId ? { externalId: call.externalId } : {}) };
      const opened = await this.calls.openOrAttachIncident(tx, {
        elevatorId,
        kind: request.kind,
        source: "call",
        reportedAt,
        actor,
        reason: request.note ?? "96333 call",
        data,
      }, this.incidentPolicy);
      if (!opened.created) {
        await this.calls.appendEvent(tx, opened.incidentId, { type: "call_attached", actor, at: this.clock(), reason: request.note, data });
      }
      await this.calls.setIncidentCounts(tx, opened.incidentId, { trappedCount: request.trappedCount, injuredCount: request.injuredCount });
      const updated = await this.calls.update(tx, callId, { elevatorId, incidentId: opened.incidentId });
      if (opened.created) emit("incident.opened", { incidentId: opened.incidentId, autoDispatch: request.autoDispatch });
      else emit("incident.changed", { incidentId: opened.incidentId });
      emit("call.changed", { callId, event: "updated" });
      return { call: updated, ...opened };
    });
    return {
      call: presentCall(outcome.call),
      incident: await this.incidents.view(outcome.incidentId),
      incidentCreated: outcome.created,
    };
  }

  private async resolveElevator(request: { rescueCode?: string; elevatorId?: number }): Promise<number> {
    if (request.elevatorId !== undefined) {
      if (!(await this.calls.elevatorExists(request.elevatorId))) throw errors.notFound(`elevator ${request.elevatorId}`);
      return request.elevatorId;
    }
    if (!request.rescueCode) throw new ApiError(400, "validation_failed", "an incident needs rescueCode or elevatorId");
    const id = await this.calls.elevatorIdByRescueCode(request.rescueCode);
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
    const call = await this.calls.byId(id);
    return call ? presentCall(call) : null;
  }

  async list(filter: { active: boolean; callerNumber?: string; limit: number }): Promise<CallView[]> {
    return (await this.calls.list(filter)).map(presentCall);
  }
}
