import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { StraightLineEstimator, learnTravelRatio, MAX_TRAVEL_RATIO, MIN_TRAVEL_RATIO } from "../../server/dispatch/estimator.ts";
import { TeamIndex, type IndexedTeam } from "../../server/dispatch/team-index.ts";
import { defaultTierPolicy, kindOfTier, mayTakeAnother, rankingGroup, rankingGroupOfTier, tierOfKind, tiersToTry } from "../../server/dispatch/policy.ts";

const now = new Date("2026-11-27T04:00:00Z"); // 12:00 in Tianjin
const target = { lat: 39.1175, lng: 117.2001 };
const estimator = new StraightLineEstimator();
const STALE_MS = 5 * 60_000;

function makeTeams(specs: { lat: number; lng: number; ratio?: number; live?: { lat: number; lng: number; ageMs: number }; status?: IndexedTeam["status"] }[]) {
  const teams = new Map<number, IndexedTeam>();
  specs.forEach((spec, i) => {
    teams.set(i + 1, {
      id: i + 1,
      kind: "rescue_station",
      status: spec.status ?? "available",
      maintenanceCompanyId: null,
      baseLat: spec.lat,
      baseLng: spec.lng,
      lat: spec.live?.lat ?? null,
      lng: spec.live?.lng ?? null,
      positionAt: spec.live ? new Date(now.getTime() - spec.live.ageMs) : null,
      travelRatio: spec.ratio ?? 1,
    });
  });
  return teams;
}

describe("tier policy", () => {
  it("tries tiers in policy order and escalates past the current tier", () => {
    expect(tiersToTry(defaultTierPolicy)).toEqual([1, 2, 3]);
    expect(tiersToTry(defaultTierPolicy, { aboveTier: 1 })).toEqual([2, 3]);
    expect(tiersToTry(defaultTierPolicy, { aboveTier: 3 })).toEqual([]);
    expect(tiersToTry({ ...defaultTierPolicy, order: [1, 3] }, { aboveTier: 1 })).toEqual([3]);
  });

  it("gives tier 1 only to the contracted company's teams", () => {
    expect(rankingGroupOfTier(1, 7)).toBe(rankingGroup({ kind: "maintenance", maintenanceCompanyId: 7 }));
    expect(rankingGroupOfTier(1, 7)).not.toBe(rankingGroup({ kind: "maintenance", maintenanceCompanyId: 8 }));
    expect(rankingGroupOfTier(2, 7)).toBe(rankingGroup({ kind: "rescue_station", maintenanceCompanyId: null }));
    expect(rankingGroupOfTier(3, 7)).toBe(rankingGroup({ kind: "fire", maintenanceCompanyId: null }));
    for (const tier of [1, 2, 3] as const) expect(tierOfKind(kindOfTier(tier))).toBe(tier);
  });

  it("books a team twice only at the same site and up to the limit", () => {
    const policy = { ...defaultTierPolicy, sameSiteMax: 3 };
    expect(mayTakeAnother([], 5, policy)).toBe(true);
    expect(mayTakeAnother([5], 5, policy)).toBe(true);
    expect(mayTakeAnother([5, 5], 5, policy)).toBe(true);
    expect(mayTakeAnother([5, 5, 5], 5, policy)).toBe(false);
    expect(mayTakeAnother([5], 6, policy)).toBe(false);
    expect(mayTakeAnother([5], 5, { ...policy, sameSiteMax: 1 })).toBe(false);
  });
});

describe("travel time estimator and learning", () => {
  it("applies the detour factor and the team's learned ratio", () => {
    const from = { lat: target.lat + 1 / 111.195, lng: target.lng };
    const plain = estimator.estimate(from, target, { at: now, detourFactor: 1.3, travelRatio: 1 });
    const slow = estimator.estimate(from, target, { at: now, detourFactor: 1.3, travelRatio: 1.5 });
    expect(plain.etaS).toBe(Math.round((1000 * 1.3) / (26 / 3.6)));
    expect(slow.etaS / plain.etaS).toBeCloseTo(1.5, 2);
  });

  it("smooths actual/estimate per team, fast at first, clamped against freak trips", () => {
    let state = { ratio: 1, samples: 0 };
    state = learnTravelRatio(state, { actualS: 600, estimatedS: 400 });
    expect(state).toEqual({ ratio: 1.5, samples: 1 }); // first sample counts fully
    for (let i = 0; i < 30; i++) state = learnTravelRatio(state, { actualS: 800, estimatedS: 400 });
    expect(state.ratio).toBeCloseTo(2, 2);
    state = learnTravelRatio(state, { actualS: 100_000, estimatedS: 400 });
    expect(state.ratio).toBeLessThanOrEqual(MAX_TRAVEL_RATIO);
    expect(learnTravelRatio(state, { actualS: 0, estimatedS: 400 })).toEqual(state);
    expect(MIN_TRAVEL_RATIO).toBeGreaterThan(0);
  });

  it("reachableM bounds every estimate from above", () => {
    fc.assert(
      fc.property(fc.double({ min: 0, max: 0.5, noNaN: true }), fc.double({ min: 1, max: 2, noNaN: true }), fc.double({ min: 0.1, max: 5, noNaN: true }), (dLat, detour, ratio) => {
        const from = { lat: target.lat + dLat, lng: target.lng };
        const e = estimator.estimate(from, target, { at: now, detourFactor: detour, travelRatio: ratio });
        expect(estimator.reachableM(e.etaS, { at: now, detourFactor: detour })).toBeGreaterThanOrEqual(e.distanceM);
      }),
    );
  });
});

describe("spatial team index", () => {
  it("returns exactly what a full sort would, with live positions, staleness, ratios and filters", () => {
    const spec = fc.record({
      lat: fc.double({ min: 38.9, max: 39.3, noNaN: true }),
      lng: fc.double({ min: 117.0, max: 117.5, noNaN: true }),
      ratio: fc.double({ min: 0.5, max: 2.5, noNaN: true }),
      status: fc.constantFrom("available", "available", "available", "busy", "off_duty") as fc.Arbitrary<IndexedTeam["status"]>,
      live: fc.option(
        fc.record({
          lat: fc.double({ min: 38.9, max: 39.3, noNaN: true }),
          lng: fc.double({ min: 117.0, max: 117.5, noNaN: true }),
          ageMs: fc.integer({ min: 0, max: 2 * STALE_MS }),
        }),
        { nil: undefined },
      ),
    });
    fc.assert(
      fc.property(fc.array(spec, { minLength: 0, maxLength: 60 }), fc.integer({ min: 1, max: 5 }), (specs, limit) => {
        const teams = makeTeams(specs);
        const index = new TeamIndex(teams, STALE_MS);
        const accept = (t: IndexedTeam) => t.status === "available";
        const got = index.nearest("rescue_station", target, { at: now, detourFactor: 1.3 }, estimator, accept, limit);
        const expected = [...teams.values()]
          .filter(accept)
          .map((t) => {
            const live = t.lat !== null && now.getTime() - t.positionAt!.getTime() <= STALE_MS;
            const from = live ? { lat: t.lat!, lng: t.lng! } : { lat: t.baseLat, lng: t.baseLng };
            return { id: t.id, etaS: estimator.estimate(from, target, { at: now, detourFactor: 1.3, travelRatio: t.travelRatio }).etaS };
          })
          .sort((a, b) => a.etaS - b.etaS || a.id - b.id)
          .slice(0, limit);
        expect(got.map((c) => c.etaS)).toEqual(expected.map((e) => e.etaS));
      }),
      { numRuns: 300 },
    );
  });

  it("rebuilds after a position change and when a live position goes stale", () => {
    const teams = makeTeams([{ lat: 39.2, lng: 117.2 }, { lat: 39.3, lng: 117.3, live: { lat: target.lat, lng: target.lng, ageMs: 0 } }]);
    const index = new TeamIndex(teams, STALE_MS);
    const near = (at: Date) => index.nearest("rescue_station", target, { at, detourFactor: 1.3 }, estimator, () => true)[0]!;
    expect(near(now).team.id).toBe(2);
    expect(near(now).usedLivePosition).toBe(true);
    // Six minutes later the live fix is stale: team 2 counts from its far base again.
    expect(near(new Date(now.getTime() + 6 * 60_000)).team.id).toBe(1);
    Object.assign(teams.get(1)!, { lat: target.lat, lng: target.lng + 0.0001, positionAt: new Date(now.getTime() + 6 * 60_000) });
    index.touch(1);
    expect(near(new Date(now.getTime() + 6 * 60_000)).usedLivePosition).toBe(true);
  });
});
