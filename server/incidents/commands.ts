import type { Transactional as UnitOfWork } from "../platform/outbox/unit-of-work.ts";
import { ApiError, errors } from "../platform/errors.ts";
import { isOpen, type IncidentStatus } from "./lifecycle.ts";
import {
  appendEvent,
  closeMassEventIfEnded,
  InvalidTransitionError,
  lockIncidentRow,
  massEventMembers,
  setIncidentDetails,
  transitionContext,
  transitionIncident,
  type Actor,
} from "./repository/writes.ts";

export type CauseClass = "external" | "human" | "door_system" | "equipment" | "other";

export interface TransitionCommand {
  to: IncidentStatus;
  actor: Actor;
  at: Date;
  reason?: string;
  lat?: number;
  lng?: number;
  trappedCount?: number;
  injuredCount?: number;
  causeClass?: CauseClass;
  causeText?: string;
  /** Set when `at` came from a phone: the timeline keeps both times and marks a late entry. */
  receivedAt?: Date;
}

/** The 409 every refused transition answers with: the current status and the allowed next steps. */
export function transitionConflict(error: InvalidTransitionError, incidentId: number): ApiError {
  return new ApiError(409, "invalid_transition", error.message, {
    incidentId,
    from: error.from,
    to: error.to,
    allowed: error.allowed,
  });
}

/**
 * One lifecycle step from a person or team: the pure state machine decides, the time may be given
 * (a rescuer's phone reports late) but never runs backwards, and closing needs a cause class because the
 * regulator's bulletins are built from it.
 */
export async function applyTransition(uow: UnitOfWork, incidentId: number, command: TransitionCommand): Promise<void> {
  await uow.run(async ({ db: tx, emit }) => {
    const incident = await transitionContext(tx, incidentId);
    if (!incident) throw errors.notFound(`incident ${incidentId}`);
    const floor = incident.lastEntryAt ?? incident.reportedAt;
    if (command.at < floor) {
      throw new ApiError(
        400,
        "time_before_timeline",
        `at (${command.at.toISOString()}) is earlier than the incident's last recorded step (${floor.toISOString()})`,
      );
    }
    if (command.to === "closed" && !command.causeClass && !incident.causeClass) {
      throw new ApiError(400, "cause_required", "closing an incident needs causeClass (external | human | door_system | equipment | other)");
    }
    if ((command.to === "cancelled" || command.to === "false_alarm") && !command.reason) {
      throw new ApiError(400, "reason_required", `${command.to} needs a reason`);
    }
    try {
      await transitionIncident(tx, incidentId, command.to, {
        actor: command.actor,
        at: command.at,
        reason: command.reason,
        lat: command.lat,
        lng: command.lng,
        data: details(command, command.receivedAt),
      });
    } catch (error) {
      if (error instanceof InvalidTransitionError) throw transitionConflict(error, incidentId);
      throw error;
    }
    await setIncidentDetails(tx, incidentId, columns(command), { bumpVersion: false });
    emit("incident.changed", { incidentId });
  });
}

function columns(c: Pick<TransitionCommand, "trappedCount" | "injuredCount" | "causeClass" | "causeText">) {
  return {
    ...(c.trappedCount !== undefined ? { trappedCount: c.trappedCount } : {}),
    ...(c.injuredCount !== undefined ? { injuredCount: c.injuredCount } : {}),
    ...(c.causeClass !== undefined ? { causeClass: c.causeClass } : {}),
    ...(c.causeText !== undefined ? { causeText: c.causeText } : {}),
  };
}

function details(c: Pick<TransitionCommand, "trappedCount" | "injuredCount" | "causeClass" | "causeText">, receivedAt?: Date) {
  const d = { ...columns(c), ...(receivedAt ? { receivedAt: receivedAt.toISOString() } : {}) };
  return Object.keys(d).length ? d : undefined;
}

export type StepType = "passenger_callback" | "follow_up" | "note" | "counts";

export interface StepCommand {
  type: StepType;
  actor: Actor;
  at: Date;
  outcome?: string;
  note?: string;
  lat?: number;
  lng?: number;
  trappedCount?: number;
  injuredCount?: number;
  /** Set when `at` came from a phone (see TransitionCommand). */
  receivedAt?: Date;
}

/**
 * Recorded steps that are not states: the passenger callback (回拨安抚) belongs to an open incident, the
 * follow-up call (回访) to one that has ended or been released.
 */
export async function recordStep(uow: UnitOfWork, incidentId: number, step: StepCommand): Promise<void> {
  await uow.run(async ({ db: tx, emit }) => {
    const status = (await lockIncidentRow(tx, incidentId))?.status;
    if (!status) throw errors.notFound(`incident ${incidentId}`);
    if (step.type === "passenger_callback" && !isOpen(status)) {
      throw new ApiError(409, "step_not_allowed", `a passenger callback needs an open incident; this one is ${status}`, { status });
    }
    if (step.type === "follow_up" && isOpen(status) && status !== "released") {
      throw new ApiError(409, "step_not_allowed", `a follow-up call comes after release; this incident is ${status}`, { status });
    }
    if (step.type === "counts" && step.trappedCount === undefined && step.injuredCount === undefined) {
      throw new ApiError(400, "validation_failed", "a counts step needs trappedCount or injuredCount");
    }
    const counts = columns(step);
    await appendEvent(tx, incidentId, {
      type: step.type,
      actor: step.actor,
      at: step.at,
      lat: step.lat,
      lng: step.lng,
      reason: step.note,
      data: { ...(step.outcome ? { outcome: step.outcome } : {}), ...counts, ...(step.receivedAt ? { receivedAt: step.receivedAt.toISOString() } : {}) },
    });
    await setIncidentDetails(tx, incidentId, counts, { bumpVersion: true });
    emit("incident.changed", { incidentId });
  });
}

/**
 * Applies one transition to every member incident where the state machine allows it; the others are
 * reported back with their allowed steps rather than failing the whole batch (a power cut's cars are
 * rarely all at the same step). The mass event closes when its last member has ended.
 */
export async function applyMassTransition(
  uow: UnitOfWork,
  massEventId: number,
  command: TransitionCommand,
): Promise<{ applied: number[]; refused: { incidentId: number; status: string; allowed: string[]; message: string }[] }> {
  const members = await uow.run(({ db }) => massEventMembers(db, massEventId));
  if (!members) throw errors.notFound(`mass event ${massEventId}`);
  const applied: number[] = [];
  const refused: { incidentId: number; status: string; allowed: string[]; message: string }[] = [];
  for (const id of members) {
    try {
      await applyTransition(uow, id, { ...command, reason: command.reason ?? `mass event ${massEventId}` });
      applied.push(id);
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      const d = (error.details ?? {}) as { from?: string; allowed?: string[] };
      refused.push({ incidentId: id, status: d.from ?? "", allowed: d.allowed ?? [], message: error.message });
    }
  }
  await closeMassEventIfDone(uow, massEventId, command.at);
  return { applied, refused };
}

/** Closes the mass event once its last member has ended; consoles are told either way (a member changed). */
export async function closeMassEventIfDone(uow: UnitOfWork, massEventId: number, at: Date): Promise<void> {
  await uow.run(async ({ db, emit }) => {
    await closeMassEventIfEnded(db, massEventId, at);
    emit("mass_event.changed", { massEventId });
  });
}
