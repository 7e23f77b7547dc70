import { describe, expect, it } from "vitest";
import fc from "fast-check";
import type { TFunction } from "i18next";
import type { IncidentView, OfferView, TimelineEventView } from "../../server/contracts/index.ts";
import { ApiError } from "../../client/src/api.ts";
import { incidentView, offerView } from "../support/views.ts";
import { describeError } from "../../client/src/incidents/useSubmit.ts";
import { allowedNext, incidentStatuses } from "../../server/incidents/lifecycle.ts";
import {
  assignmentsByTeam,
  factsOf,
  formatInterval,
  mergeTimeline,
  planActions,
  timelineLabelKey,
} from "../../client/src/incidents/nextActions.ts";

const offer = offerView;

function incident(status: IncidentView["status"], offers: OfferView[] = [], extra: Partial<IncidentView> = {}): IncidentView {
  return incidentView(1, { status, source: "call", offers, ...extra });
}

function entry(id: string, at: string, type = "note", toStatus: string | null = null): TimelineEventView {
  return { id, type, fromStatus: null, toStatus, actorType: "user", actorId: "dispatcher", at, lat: null, lng: null, reason: null, data: null };
}

describe("planActions mirrors the server's state machine", () => {
  it("offers release, close, cancel and false alarm only where the lifecycle allows them", () => {
    fc.assert(
      fc.property(fc.constantFrom(...incidentStatuses), fc.constantFrom("entrapment", "fault", "other" as const), (status, kind) => {
        const { actions } = planActions(incident(status, [], { kind }));
        const next = allowedNext(status, kind);
        expect(actions.has("release")).toBe(next.includes("released"));
        expect(actions.has("close")).toBe(next.includes("closed"));
        expect(actions.has("cancel")).toBe(next.includes("cancelled"));
        expect(actions.has("false_alarm")).toBe(next.includes("false_alarm"));
      }),
    );
  });

  it("records acceptance for the primary offered team, departure and arrival for the accepted one", () => {
    const dispatched = planActions(incident("dispatched", [offer(2, "offered", { backup: true }), offer(1, "offered")]));
    expect(dispatched.offerToAccept?.id).toBe(1);
    expect(dispatched.actions.has("accept")).toBe(true);
    expect(dispatched.actions.has("depart")).toBe(false);

    const accepted = planActions(incident("accepted", [offer(1, "accepted"), offer(3, "declined")]));
    expect(accepted.assignedOffer?.id).toBe(1);
    expect([...accepted.actions]).toEqual(expect.arrayContaining(["depart", "arrive", "dispatch"]));
    expect(accepted.actions.has("accept")).toBe(false);

    const enRoute = planActions(incident("en_route", [offer(1, "accepted")]));
    expect(enRoute.actions.has("depart")).toBe(false);
    expect(enRoute.actions.has("arrive")).toBe(true);

    const onScene = planActions(incident("on_scene", [offer(1, "accepted")]));
    expect(onScene.actions.has("dispatch")).toBe(false);
    expect(onScene.actions.has("arrive")).toBe(false);
    expect(onScene.actions.has("release")).toBe(true);
  });

  it("offers nothing for an ended incident", () => {
    for (const status of ["closed", "cancelled", "false_alarm"] as const) {
      expect(planActions(incident(status, [offer(1, "completed")])).actions.size).toBe(0);
    }
  });
});

describe("mergeTimeline", () => {
  it("drops duplicates and keeps time order, whatever order entries arrive in", () => {
    const entries = [
      entry("1", "2026-11-27T08:00:00.000Z", "reported"),
      entry("2", "2026-11-27T08:00:05.000Z", "transition", "dispatched"),
      entry("10", "2026-11-27T08:00:05.000Z", "offer_made"),
      entry("11", "2026-11-27T08:01:00.000Z"),
    ];
    fc.assert(
      fc.property(fc.shuffledSubarray(entries, { minLength: 0 }), fc.shuffledSubarray(entries, { minLength: 0 }), (a, b) => {
        const merged = mergeTimeline(mergeTimeline([], a), b);
        const expected = entries.filter((e) => a.includes(e) || b.includes(e)).map((e) => e.id);
        expect(merged.map((e) => e.id)).toEqual(expected);
      }),
    );
  });

  it("returns the same list when nothing new arrived", () => {
    const list = mergeTimeline([], [entry("1", "2026-11-27T08:00:00.000Z")]);
    expect(mergeTimeline(list, [entry("1", "2026-11-27T08:00:00.000Z")])).toBe(list);
  });
});

describe("labels and formatting", () => {
  it("names a transition by its target and other entries by their type", () => {
    expect(timelineLabelKey(entry("1", "x", "transition", "on_scene"))).toBe("to_on_scene");
    expect(timelineLabelKey(entry("1", "x", "transition", "reported"))).toBe("to_reported");
    expect(timelineLabelKey(entry("1", "x", "passenger_callback"))).toBe("passenger_callback");
  });

  it("reads counts and cause from an entry's data and ignores anything else", () => {
    expect(factsOf({ data: { trappedCount: 2, causeClass: "equipment", causeText: "门机" } })).toEqual({
      trappedCount: 2,
      causeClass: "equipment",
      causeText: "门机",
    });
    expect(factsOf({ data: { outcome: "reached" } })).toEqual({});
    expect(factsOf({ data: null })).toEqual({});
    expect(factsOf({ data: { trappedCount: "2" } })).toEqual({});
  });

  it("formats intervals as mm:ss with minutes past the hour", () => {
    expect(formatInterval(null)).toBe("—");
    expect(formatInterval(65)).toBe("01:05");
    expect(formatInterval(4503)).toBe("75:03");
  });
});

describe("assignmentsByTeam", () => {
  it("maps each team to the incident it is on, an accepted job before a pending offer", () => {
    const a = incident("dispatched", [offer(1, "offered", { teamId: 7 })], { id: 1, code: "A" });
    const b = incident("accepted", [offer(2, "accepted", { teamId: 7 }), offer(3, "withdrawn", { teamId: 8 })], { id: 2, code: "B" });
    const map = assignmentsByTeam([a, b]);
    expect(map.get(7)).toEqual({ incidentId: 2, incidentCode: "B", offerStatus: "accepted" });
    expect(map.has(8)).toBe(false);
  });
});

describe("describeError", () => {
  const t = ((key: string, options?: { list?: string }) => (options?.list !== undefined ? `${key}:${options.list}` : key)) as unknown as TFunction;

  it("adds the allowed next statuses to a refused transition", () => {
    const refused = new ApiError("/api/incidents/1/transitions", 409, "HTTP 409: cannot go from released to on_scene", "invalid_transition", {
      incidentId: 1,
      from: "released",
      to: "on_scene",
      allowed: ["closed"],
    });
    const text = describeError(refused, t);
    expect(text).toMatch(/ — detail\.allowedNext:status\.closed$/);
    // The person reads the console's text for the error id, never the server's English.
    expect(text).not.toContain("cannot go from");
  });

  it("shows other errors by their id, not the server's message", () => {
    const text = describeError(new ApiError("/api/offers/3/accept", 409, "HTTP 409: offer 3 is withdrawn, not offered", "offer_state_changed", { status: "withdrawn" }), t);
    expect(text).not.toContain("offer 3 is withdrawn");
    expect(describeError(new Error("network down"), t)).toBe("network down");
  });
});
