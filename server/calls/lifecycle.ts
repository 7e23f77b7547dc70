/**
 * How one telephony event changes a call's times, whatever order the PBX's events arrive in. Every field
 * only moves one way (ringing and answer keep the earliest report, hold and resume the latest), so
 * applying the same events in any order ends with the same call.
 */
export type TelephonyEventKind = "ringing" | "answered" | "held" | "resumed" | "ended";

export interface CallTimes {
  ringingAt: Date;
  answeredAt: Date | null;
  heldAt: Date | null;
  resumedAt: Date | null;
  endedAt: Date | null;
}

const earliest = (a: Date | null, b: Date): Date => (a !== null && a.getTime() <= b.getTime() ? a : b);
const latest = (a: Date | null, b: Date): Date => (a !== null && a.getTime() >= b.getTime() ? a : b);

/** The times of a call first seen with this event: a call first heard of by its answer rang no later. */
export function firstTimes(event: TelephonyEventKind, at: Date): CallTimes {
  const blank: CallTimes = { ringingAt: at, answeredAt: null, heldAt: null, resumedAt: null, endedAt: null };
  return { ...blank, ...applyTelephonyEvent(blank, event, at) };
}

/** Only the fields that change. */
export function applyTelephonyEvent(current: CallTimes, event: TelephonyEventKind, at: Date): Partial<CallTimes> {
  switch (event) {
    case "ringing":
      return { ringingAt: earliest(current.ringingAt, at) };
    case "answered":
      // Being put on hold or ending implies the call was answered no later than that.
      return { answeredAt: earliest(current.answeredAt, at), ringingAt: earliest(current.ringingAt, at) };
    case "held":
      return { heldAt: latest(current.heldAt, at), answeredAt: earliest(current.answeredAt, at), ringingAt: earliest(current.ringingAt, at) };
    case "resumed":
      return { resumedAt: latest(current.resumedAt, at), answeredAt: earliest(current.answeredAt, at), ringingAt: earliest(current.ringingAt, at) };
    case "ended":
      return { endedAt: earliest(current.endedAt, at), ringingAt: earliest(current.ringingAt, at) };
  }
}
