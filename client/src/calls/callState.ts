import type { CallView } from "../../../server/contracts/index.ts";

/**
 * A call's state on the console, from the call alone. Telephony pushes, REST answers to the dispatcher's
 * own actions and snapshots can arrive in any order; `mergeCall` combines copies so that the result does
 * not depend on that order: times only move one way (ringing and answer keep the earliest, hold and
 * resume the latest, the end the earliest), and a call linked to an incident stays linked.
 */
export type CallState = "ringing" | "answered" | "on_hold" | "ended";

const ms = (iso: string | null): number | null => (iso === null ? null : Date.parse(iso));

export function isOnHold(call: Pick<CallView, "heldAt" | "resumedAt" | "endedAt">): boolean {
  if (call.endedAt !== null || call.heldAt === null) return false;
  const resumed = ms(call.resumedAt);
  return resumed === null || ms(call.heldAt)! > resumed;
}

export function callState(call: Pick<CallView, "answeredAt" | "heldAt" | "resumedAt" | "endedAt">): CallState {
  if (call.endedAt !== null) return "ended";
  if (isOnHold(call)) return "on_hold";
  // Put on hold implies answered, even when the answer itself has not arrived yet.
  return call.answeredAt !== null || call.heldAt !== null ? "answered" : "ringing";
}

/**
 * The clock each state shows: ringing counts from the ring, talking from the answer (or the last
 * resume), on hold from the hold; an ended call shows its whole length, frozen.
 */
export function callClock(call: CallView, now: number): { state: CallState; ms: number } {
  const state = callState(call);
  const ringing = Date.parse(call.ringingAt);
  switch (state) {
    case "ended":
      return { state, ms: Date.parse(call.endedAt!) - ringing };
    case "on_hold":
      return { state, ms: now - Date.parse(call.heldAt!) };
    case "answered": {
      const from = Math.max(ms(call.answeredAt) ?? ringing, ms(call.resumedAt) ?? 0);
      return { state, ms: now - from };
    }
    case "ringing":
      return { state, ms: now - ringing };
  }
}

function pick(a: string | null, b: string | null, keep: "earliest" | "latest"): string | null {
  if (a === null) return b;
  if (b === null) return a;
  const later = Date.parse(b) > Date.parse(a);
  return keep === "latest" ? (later ? b : a) : later ? a : b;
}

/** Combines two copies of one call into what both together say, whichever arrived first. */
export function mergeCall(held: CallView | undefined, incoming: CallView): CallView {
  if (!held) return incoming;
  return {
    ...held,
    ...incoming,
    ringingAt: pick(held.ringingAt, incoming.ringingAt, "earliest")!,
    answeredAt: pick(held.answeredAt, incoming.answeredAt, "earliest"),
    heldAt: pick(held.heldAt, incoming.heldAt, "latest"),
    resumedAt: pick(held.resumedAt, incoming.resumedAt, "latest"),
    endedAt: pick(held.endedAt, incoming.endedAt, "earliest"),
    incidentId: incoming.incidentId ?? held.incidentId,
    elevatorId: incoming.elevatorId ?? held.elevatorId,
    rescueCode: incoming.rescueCode ?? held.rescueCode,
    line: incoming.line ?? held.line,
    agent: incoming.agent ?? held.agent,
    recordingRef: incoming.recordingRef ?? held.recordingRef,
    notes: incoming.notes ?? held.notes,
  };
}

/** Whether two copies say the same (so the store can keep its object and spare a render). */
export function sameCall(a: CallView, b: CallView): boolean {
  return (Object.keys(a) as (keyof CallView)[]).every((k) => a[k] === b[k]);
}

/**
 * Calls the intake still shows: everything not yet over, and an ended PBX call nobody turned into an
 * incident (until dismissed). A call linked to an incident is shown collapsed under it.
 */
export function belongsInIntake(call: CallView): boolean {
  if (!call.endedAt) return true;
  return call.source === "pbx" && call.incidentId === null;
}

/** Unhandled calls first (newest on top), then the ones already linked to an incident. */
export function intakeOrder(a: CallView, b: CallView): number {
  const handled = Number(a.incidentId !== null) - Number(b.incidentId !== null);
  return handled || Date.parse(b.ringingAt) - Date.parse(a.ringingAt) || b.id - a.id;
}
