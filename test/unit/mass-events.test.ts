import { describe, expect, it } from "vitest";
import { planMassEvents } from "../../server/incidents/mass-events.ts";
import type { RecentIncident } from "../../server/incidents/repository/mass-events.ts";

// Which incidents of a district join which mass event: the grouping pass's pure core.
const policy = { massSiteMin: 3, massDistrictMin: 10 };
const t0 = new Date("2026-11-27T04:00:00Z");
const incident = (id: number, siteId: number, massEventId: number | null = null): RecentIncident => ({
  id,
  siteId,
  siteName: `site ${siteId}`,
  massEventId,
  reportedAt: new Date(t0.getTime() + id * 1000),
});
const none = { building: new Map<number, number>(), area: null, districtName: "和平区" };

describe("mass-event planning", () => {
  it("forms a building event once a site has enough incidents, and nothing below that", () => {
    expect(planMassEvents(1, [incident(1, 7), incident(2, 7)], none, policy)).toEqual([]);
    const plan = planMassEvents(1, [incident(1, 7), incident(2, 7), incident(3, 7), incident(4, 8)], none, policy);
    expect(plan).toEqual([
      { incidentIds: [1, 2, 3], massEventId: null, create: { kind: "building", title: "site 7 多台电梯同时困人", siteId: 7, districtId: 1, startedAt: incident(1, 7).reportedAt } },
    ]);
  });

  it("adds newcomers to the event their site already has, and leaves members where they are", () => {
    const plan = planMassEvents(1, [incident(1, 7, 50), incident(2, 7, 50), incident(3, 7, 50), incident(4, 7)], none, policy);
    expect(plan).toEqual([{ incidentIds: [4], massEventId: 50, create: null }]);
    const open = { ...none, building: new Map([[7, 60]]) };
    expect(planMassEvents(1, [incident(1, 7), incident(2, 7), incident(3, 7)], open, policy)).toEqual([{ incidentIds: [1, 2, 3], massEventId: 60, create: null }]);
  });

  it("puts the rest of a busy district into its area event, building members staying in theirs", () => {
    const recent = [incident(1, 7), incident(2, 7), incident(3, 7), ...Array.from({ length: 8 }, (_, i) => incident(10 + i, 20 + i))];
    const plan = planMassEvents(1, recent, none, policy);
    expect(plan[0]!.incidentIds).toEqual([1, 2, 3]);
    expect(plan[1]).toMatchObject({ massEventId: null, create: { kind: "area", title: "和平区 区域群发困人", districtId: 1 } });
    expect(plan[1]!.incidentIds).toEqual(recent.slice(3).map((i) => i.id));
    expect(planMassEvents(1, recent, { ...none, area: 99 }, policy)[1]).toMatchObject({ massEventId: 99, create: null });
  });
});
