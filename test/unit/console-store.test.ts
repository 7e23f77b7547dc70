import { describe, expect, it } from "vitest";
import type { CallView, IncidentView, OfferView, SlaAlertView } from "../../server/contracts/index.ts";
import { initialState, reduce, type ConsoleState } from "../../client/src/realtime.ts";
import { incidentView, offerView } from "../support/views.ts";
import { byUrgency, groupByMassEvent, matchesFilter, noFilter } from "../../client/src/incidents/urgency.ts";

function call(id: number, patch: Partial<CallView> = {}): CallView {
  return {
    id,
    externalId: `pbx-${id}`,
    source: "pbx",
    callerNumber: "13800001111",
    line: null,
    agent: null,
    recordingRef: null,
    rescueCode: null,
    ringingAt: new Date(1_700_000_000_000 + id * 1000).toISOString(),
    answeredAt: null,
    endedAt: null,
    heldAt: null,
    resumedAt: null,
    elevatorId: null,
    incidentId: null,
    notes: null,
    ...patch,
  };
}

function offer(tier: number, status: OfferView["status"] = "offered"): OfferView {
  return offerView(tier * 100, status, { teamId: tier, tier });
}

const incident = incidentView;

const run = (state: ConsoleState, ...actions: Parameters<typeof reduce>[1][]) => actions.reduce(reduce, state);

describe("console store: call intake", () => {
  it("pops the intake with a ringing call, but not over a call the dispatcher is working on", () => {
    let state = run(initialState, { type: "role", role: "dispatcher" }, { type: "panel", panel: "teams" }, { type: "call:upsert", call: call(1), ringing: true });
    expect(state.panel).toBe("intake");
    expect(state.selectedCallId).toBe(1);
    state = run(state, { type: "call:upsert", call: call(2), ringing: true });
    expect(state.selectedCallId).toBe(1);
    expect([...state.calls.keys()].sort()).toEqual([1, 2]);
  });

  it("never opens the intake for a role that cannot take calls", () => {
    const state = run(
      initialState,
      { type: "role", role: "supervisor" },
      { type: "panel", panel: "teams" },
      { type: "call:upsert", call: call(1), ringing: true },
      { type: "panel", panel: "intake" },
    );
    expect(state.panel).toBe("teams");
    expect(state.calls.size).toBe(1);
  });

  it("drops a call once it has ended with an incident; keeps an ended call without one until dismissed", () => {
    let state = run(
      initialState,
      { type: "call:upsert", call: call(1), ringing: true },
      { type: "call:upsert", call: call(2), ringing: true },
      { type: "call:upsert", call: call(1, { incidentId: 9, endedAt: "2026-11-27T08:03:00Z" }) },
      { type: "call:upsert", call: call(2, { endedAt: "2026-11-27T08:03:00Z" }) },
    );
    expect([...state.calls.keys()]).toEqual([2]);
    expect(state.selectedCallId).toBeNull();
    // The server's active list has no ended calls: the snapshot keeps the undecided one.
    state = run(state, { type: "calls:snapshot", calls: [call(3)] });
    expect([...state.calls.keys()].sort()).toEqual([2, 3]);
    state = run(state, { type: "call:dismiss", id: 2 });
    expect([...state.calls.keys()]).toEqual([3]);
  });
});

describe("console store: incidents", () => {
  it("removes an incident that ended, with its SLA alerts", () => {
    const alert: SlaAlertView = {
      incidentId: 1,
      incidentCode: "TJ-1",
      kind: "warning",
      reason: "estimate_misses_deadline",
      arrivalDeadlineAt: "2026-11-27T08:30:00Z",
      estimatedArrivalAt: null,
      escalatedToTier: null,
      escalatedToTeamId: null,
      audience: ["dispatcher"],
      at: "2026-11-27T08:20:00Z",
    };
    let state = run(initialState, { type: "incident:upsert", incident: incident(1) }, { type: "sla:alert", alert }, { type: "sla:alert", alert });
    expect(state.slaAlerts).toHaveLength(1);
    state = run(state, { type: "incident:upsert", incident: incident(1, { status: "closed" }) });
    expect(state.incidents.size).toBe(0);
    expect(state.slaAlerts).toHaveLength(0);
  });

  it("a snapshot after reconnect replaces the open set: no duplicates, no stale items", () => {
    const state = run(
      initialState,
      { type: "incident:upsert", incident: incident(1) },
      { type: "incident:upsert", incident: incident(2) },
      { type: "incidents:snapshot", incidents: [incident(2, { status: "dispatched" }), incident(3), incident(4, { status: "closed" })] },
    );
    expect([...state.incidents.keys()].sort()).toEqual([2, 3]);
    expect(state.incidents.get(2)?.status).toBe("dispatched");
  });
});

describe("console store: pushes and REST answers that cross", () => {
  it("keeps the newer copy of an incident whichever arrives last", () => {
    const accepted = incident(1, { status: "accepted", revision: 7 });
    const dispatched = incident(1, { status: "dispatched", revision: 5 });
    let state = run(initialState, { type: "incident:upsert", incident: accepted }, { type: "incident:upsert", incident: dispatched });
    expect(state.incidents.get(1)?.status).toBe("accepted");
    // The same revision again (a change that wrote no event) is taken.
    state = run(state, { type: "incident:upsert", incident: incident(1, { status: "accepted", revision: 7, trappedCount: 2 }) });
    expect(state.incidents.get(1)?.trappedCount).toBe(2);
  });

  it("does not bring back an incident that ended when an older open copy arrives late", () => {
    let state = run(
      initialState,
      { type: "incident:upsert", incident: incident(1, { status: "released", revision: 9 }) },
      { type: "incident:upsert", incident: incident(1, { status: "closed", revision: 10 }) },
      { type: "incident:upsert", incident: incident(1, { status: "released", revision: 9 }) },
    );
    expect(state.incidents.size).toBe(0);
    state = run(state, { type: "incidents:snapshot", incidents: [incident(1, { status: "released", revision: 9 })] });
    expect(state.incidents.size).toBe(0);
  });
});

describe("queue filters and mass-event groups", () => {
  it("filters by district, status and tier (none = nobody on it)", () => {
    const a = incident(1, { offers: [offer(1)] });
    const b = incident(2, { district: { id: 2, name: "河西区" }, status: "dispatched", offers: [offer(2), offer(1, "declined")] });
    const c = incident(3);
    const all = [a, b, c];
    expect(all.filter((i) => matchesFilter(i, noFilter))).toHaveLength(3);
    expect(all.filter((i) => matchesFilter(i, { ...noFilter, districtId: 2 }))).toEqual([b]);
    expect(all.filter((i) => matchesFilter(i, { ...noFilter, status: "reported" }))).toEqual([a, c]);
    expect(all.filter((i) => matchesFilter(i, { ...noFilter, tier: 1 }))).toEqual([a]);
    expect(all.filter((i) => matchesFilter(i, { ...noFilter, tier: "none" }))).toEqual([c]);
  });

  it("groups a mass event's incidents at the place of its most urgent member", () => {
    const lone = incident(1);
    const m1 = incident(2, { massEventId: 7 });
    const fault = incident(3, { kind: "fault" });
    const m2 = incident(4, { massEventId: 7 });
    const single = incident(5, { massEventId: 8 });
    const sorted = [m2, fault, single, lone, m1].sort(byUrgency);
    const entries = groupByMassEvent(sorted, new Set([7, 8]));
    expect(entries.map((e) => (e.type === "incident" ? e.incident.id : `mass${e.massEventId}:${e.incidents.map((i) => i.id).join(",")}`))).toEqual([
      1,
      "mass7:2,4",
      5,
      3,
    ]);
    // An unknown (closed) mass event does not group.
    expect(groupByMassEvent(sorted, new Set()).every((e) => e.type === "incident")).toBe(true);
  });
});
