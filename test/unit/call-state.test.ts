import { describe, expect, it } from "vitest";
import type { CallView } from "../../server/contracts/index.ts";
import { initialState, reduce, type ConsoleState } from "../../client/src/realtime.ts";
import { callClock, callState, mergeCall } from "../../client/src/calls/callState.ts";
import { applyTelephonyEvent, firstTimes, type CallTimes, type TelephonyEventKind } from "../../server/calls/lifecycle.ts";

const T0 = Date.parse("2026-12-02T07:00:00Z");
const at = (s: number) => new Date(T0 + s * 1000).toISOString();

function permutations<T>(items: readonly T[]): T[][] {
  if (items.length <= 1) return [items.slice()];
  return items.flatMap((item, i) => permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest]));
}

const blank: CallView = {
  id: 7,
  externalId: "pbx-7",
  source: "pbx",
  callerNumber: "13800001111",
  line: "96333-01",
  agent: null,
  recordingRef: null,
  rescueCode: null,
  ringingAt: at(0),
  answeredAt: null,
  endedAt: null,
  heldAt: null,
  resumedAt: null,
  elevatorId: null,
  incidentId: null,
  notes: null,
};

type Step = "ringing" | "answered" | "held" | "resumed" | "incident" | "ended";
const stepTime: Record<Step, number> = { ringing: 0, answered: 1.2, held: 4, resumed: 6, incident: 7, ended: 30 };

/**
 * The server's copy of the call after each step in the order things really happened; each copy is what
 * one push or REST answer carries. The dispatcher opens the incident at `incidentAfter` steps.
 */
function copies(real: Step[]): CallView[] {
  let call = { ...blank, ringingAt: at(stepTime[real[0]!]) };
  return real.map((step) => {
    const t = at(stepTime[step]);
    if (step === "ringing") call = { ...call, ringingAt: t };
    if (step === "answered") call = { ...call, answeredAt: t };
    if (step === "held") call = { ...call, heldAt: t };
    if (step === "resumed") call = { ...call, resumedAt: t };
    if (step === "ended") call = { ...call, endedAt: t };
    if (step === "incident") call = { ...call, incidentId: 9, elevatorId: 42 };
    return call;
  });
}

const dispatcher = reduce(initialState, { type: "role", role: "dispatcher" });
const deliver = (state: ConsoleState, call: CallView, i: number) => reduce(state, { type: "call:upsert", call, ringing: i === 0 });

describe("call state on the console, whatever order copies arrive in", () => {
  // The incident may be opened at any moment of the call (even before the answer arrives).
  const telephony: Step[] = ["ringing", "answered", "held", "resumed"];
  const realOrders = [0, 1, 2, 3, 4].map((k) => [...telephony.slice(0, k), "incident" as Step, ...telephony.slice(k)]);

  it("ends with the server's latest copy for every order of delivery (live call)", () => {
    let checked = 0;
    for (const real of realOrders) {
      const sent = copies(real);
      const latest = sent[sent.length - 1]!;
      for (const order of permutations(sent.map((_, i) => i))) {
        const state = order.reduce((s, i) => deliver(s, sent[i]!, i), dispatcher);
        expect(state.calls.get(7), `real ${real.join(">")} delivered ${order.join(",")}`).toEqual(latest);
        expect(callState(state.calls.get(7)!)).toBe("answered");
        checked++;
      }
    }
    expect(checked).toBe(5 * 120);
  });

  it("a call answered 1.2 s after ringing shows answered, not ringing, when the incident's REST answer is older", () => {
    const ringing = blank;
    const answered = { ...blank, answeredAt: at(1.2) };
    const restAnswer = { ...blank, incidentId: 9, elevatorId: 42 }; // read before the answer committed
    const state = [ringing, answered, restAnswer].reduce(deliver, dispatcher);
    expect(callState(state.calls.get(7)!)).toBe("answered");
    expect(state.calls.get(7)!.incidentId).toBe(9);
  });

  it("a call that ended inside an incident leaves the intake for every order, and late copies do not bring it back", () => {
    for (const real of realOrders) {
      const sent = copies([...real, "ended"]);
      for (const order of permutations(sent.map((_, i) => i))) {
        const state = order.reduce((s, i) => deliver(s, sent[i]!, i), dispatcher);
        expect(state.calls.has(7), `delivered ${order.join(",")}`).toBe(false);
        expect(state.callsGone.get(7)).toEqual(sent[sent.length - 1]);
      }
    }
  });

  it("an ended call without an incident stays until dismissed; a dismissed call stays away", () => {
    const sent = copies(["ringing", "answered", "ended"]);
    for (const order of permutations([0, 1, 2])) {
      let state = order.reduce((s, i) => deliver(s, sent[i]!, i), dispatcher);
      expect(callState(state.calls.get(7)!)).toBe("ended");
      state = reduce(state, { type: "call:dismiss", id: 7 });
      state = deliver(state, sent[1]!, 1);
      expect(state.calls.has(7)).toBe(false);
    }
  });

  it("a snapshot taken before a push cannot roll the call back", () => {
    let state = deliver(dispatcher, { ...blank, answeredAt: at(1.2), incidentId: 9 }, 1);
    state = reduce(state, { type: "calls:snapshot", calls: [blank] });
    expect(state.calls.get(7)).toMatchObject({ answeredAt: at(1.2), incidentId: 9 });
  });

  it("pops the intake only for a new unhandled ringing call", () => {
    const teamsPanel = reduce(dispatcher, { type: "panel", panel: "teams" });
    expect(deliver(teamsPanel, { ...blank, incidentId: 9 }, 0).panel).toBe("teams");
    expect(deliver(teamsPanel, blank, 0).panel).toBe("intake");
  });
});

describe("call clocks", () => {
  const now = T0 + 60_000;
  it("each state counts from its own start", () => {
    expect(callClock(blank, now)).toEqual({ state: "ringing", ms: 60_000 });
    expect(callClock({ ...blank, answeredAt: at(2) }, now)).toEqual({ state: "answered", ms: 58_000 });
    expect(callClock({ ...blank, answeredAt: at(2), heldAt: at(10) }, now)).toEqual({ state: "on_hold", ms: 50_000 });
    expect(callClock({ ...blank, answeredAt: at(2), heldAt: at(10), resumedAt: at(20) }, now)).toEqual({ state: "answered", ms: 40_000 });
    expect(callClock({ ...blank, answeredAt: at(2), endedAt: at(45) }, now)).toEqual({ state: "ended", ms: 45_000 });
  });

  it("a hold heard before its answer still means the call was answered", () => {
    expect(callState({ ...blank, heldAt: at(5), resumedAt: at(8) })).toBe("answered");
  });

  it("merging is the same in both directions", () => {
    const a = { ...blank, answeredAt: at(1), heldAt: at(5) };
    const b = { ...blank, ringingAt: at(-1), resumedAt: at(8), incidentId: 3 };
    expect(mergeCall(a, b)).toEqual(mergeCall(b, a));
  });
});

describe("telephony events on the server, in any order", () => {
  const events: [TelephonyEventKind, number][] = [
    ["ringing", 0],
    ["answered", 1.2],
    ["held", 4],
    ["resumed", 6],
    ["ended", 30],
  ];
  it("every order of delivery stores the same times", () => {
    const expected: CallTimes = {
      ringingAt: new Date(at(0)),
      answeredAt: new Date(at(1.2)),
      heldAt: new Date(at(4)),
      resumedAt: new Date(at(6)),
      endedAt: new Date(at(30)),
    };
    for (const order of permutations(events)) {
      const [first, ...rest] = order;
      let times = firstTimes(first![0], new Date(at(first![1])));
      for (const [event, s] of rest) times = { ...times, ...applyTelephonyEvent(times, event, new Date(at(s))) };
      expect(times, order.map((e) => e[0]).join(">")).toEqual(expected);
    }
  });

  it("a call ended before it was answered stays unanswered", () => {
    const times = { ...firstTimes("ringing", new Date(at(0))), ...applyTelephonyEvent(firstTimes("ringing", new Date(at(0))), "ended", new Date(at(9))) };
    expect(times.answeredAt).toBeNull();
  });
});
