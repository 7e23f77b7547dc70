import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { chooseTeam, isBookable, rankTier, type DispatchTarget, type RankableTeam } from "../../server/dispatch/ranking.ts";
import { StraightLineEstimator, urbanSpeedKmh } from "../../server/dispatch/estimator.ts";
import { TeamIndex } from "../../server/dispatch/team-index.ts";
import { defaultTierPolicy, type TeamKind } from "../../server/dispatch/policy.ts";

// The engine's one ranking (server/dispatch/ranking.ts), pinned: the same functions offer incidents.
const now = new Date("2026-11-27T04:00:00Z"); // 12:00 in Tianjin
const target: DispatchTarget = { lat: 39.1175, lng: 117.2001, siteId: 10, companyId: 1, detourFactor: 1.3 }; // 和平区
const STALE_MS = 5 * 60_000;
const estimator = new StraightLineEstimator();
const context = { at: now, estimator, policy: defaultTierPolicy, exclude: new Set<number>() };

let nextId = 1;
function team(overrides: Partial<RankableTeam>): RankableTeam {
  return {
    id: nextId++,
    kind: "maintenance",
    status: "available",
    maintenanceCompanyId: 1,
    baseLat: target.lat,
    baseLng: target.lng,
    lat: null,
    lng: null,
    positionAt: null,
    travelRatio: 1,
    activeSites: new Map(),
    ...overrides,
  };
}

const indexOf = (teams: RankableTeam[]) => new TeamIndex(new Map(teams.map((t) => [t.id, t])), STALE_MS);

describe("dispatch ranking", () => {
  it("estimates arrival from distance x detour factor at the hour's speed", () => {
    const oneKmNorth = team({ baseLat: target.lat + 1 / 111.195 });
    const [ranked] = rankTier(indexOf([oneKmNorth]), target, 1, context);
    expect(ranked!.distanceM).toBeGreaterThan(995);
    expect(ranked!.distanceM).toBeLessThan(1005);
    const expected = (1000 * 1.3) / ((urbanSpeedKmh(now) * 1000) / 3600);
    expect(Math.abs(ranked!.etaS - expected)).toBeLessThan(3);
  });

  it("is slower in the rush hour than at night", () => {
    expect(urbanSpeedKmh(new Date("2026-11-27T00:30:00Z"))).toBeLessThan(urbanSpeedKmh(new Date("2026-11-27T16:00:00Z")));
  });

  it("uses a fresh live position, and the base when the position is stale", () => {
    const far = { baseLat: target.lat + 0.2, baseLng: target.lng };
    const fresh = team({ ...far, lat: target.lat, lng: target.lng, positionAt: new Date(now.getTime() - 60_000) });
    const stale = team({ ...far, lat: target.lat, lng: target.lng, positionAt: new Date(now.getTime() - 60 * 60_000) });
    const ranked = rankTier(indexOf([stale, fresh]), target, 1, { ...context, limit: 2 });
    expect(ranked[0]).toMatchObject({ team: { id: fresh.id }, usedLivePosition: true, distanceM: 0 });
    expect(ranked[1]).toMatchObject({ team: { id: stale.id }, usedLivePosition: false });
  });

  it("chooses the contracted company's nearest bookable team before stations and fire brigades", () => {
    const station = team({ kind: "rescue_station", maintenanceCompanyId: null });
    const otherCompany = team({ maintenanceCompanyId: 2 });
    const busyNear = team({ status: "busy", activeSites: new Map([[1, 99]]) });
    const farOwn = team({ baseLat: target.lat + 0.1 });
    const nearOwn = team({ baseLat: target.lat + 0.01 });
    const choose = (teams: RankableTeam[]) => chooseTeam(indexOf(teams), target, [1, 2, 3], context);
    expect(choose([station, otherCompany, busyNear, farOwn, nearOwn])).toMatchObject({ tier: 1, candidate: { team: { id: nearOwn.id } } });
    expect(choose([station, otherCompany, busyNear])).toMatchObject({ tier: 2, candidate: { team: { id: station.id } } });
    const fire = team({ kind: "fire", maintenanceCompanyId: null });
    expect(choose([fire, busyNear])).toMatchObject({ tier: 3, candidate: { team: { id: fire.id } } });
    expect(choose([busyNear, otherCompany])).toBeNull();
    // Escalation skips the tiers already tried; excluded teams (offered before) are never chosen again.
    expect(chooseTeam(indexOf([nearOwn, station]), target, [2, 3], context)).toMatchObject({ tier: 2 });
    expect(chooseTeam(indexOf([nearOwn]), target, [1], { ...context, exclude: new Set([nearOwn.id]) })).toBeNull();
  });

  it("books a team on a job only for another lift of the same site, up to the limit", () => {
    const policy = { ...defaultTierPolicy, sameSiteMax: 3 };
    const onSite = (sites: number[]) => team({ status: "offered", activeSites: new Map(sites.map((site, i) => [i + 1, site])) });
    expect(isBookable(onSite([]), 10, policy)).toBe(true);
    expect(isBookable(onSite([10]), 10, policy)).toBe(true);
    expect(isBookable(onSite([10, 10, 10]), 10, policy)).toBe(false);
    expect(isBookable(onSite([11]), 10, policy)).toBe(false);
    expect(isBookable(onSite([10]), 10, { ...policy, sameSiteMax: 1 })).toBe(false);
    expect(isBookable(team({ status: "off_duty" }), 10, policy)).toBe(false);
  });

  it("chooses the bookable team with the smallest estimate of the first tier that has one, for any set of teams", () => {
    const arbitraryTeam = fc.record({
      kind: fc.constantFrom<TeamKind>("maintenance", "rescue_station", "fire"),
      company: fc.constantFrom(1, 2),
      status: fc.constantFrom("available", "available", "busy", "off_duty" as const),
      activeSite: fc.constantFrom(10, 11),
      ratio: fc.double({ min: 0.5, max: 2.5, noNaN: true }),
      dLat: fc.double({ min: -0.5, max: 0.5, noNaN: true }),
      dLng: fc.double({ min: -0.5, max: 0.5, noNaN: true }),
    });
    fc.assert(
      fc.property(fc.array(arbitraryTeam, { maxLength: 40 }), (specs) => {
        const teams = specs.map((s) =>
          team({
            kind: s.kind,
            status: s.status,
            activeSites: s.status === "busy" ? new Map([[1, s.activeSite]]) : new Map(),
            travelRatio: s.ratio,
            maintenanceCompanyId: s.kind === "maintenance" ? s.company : null,
            baseLat: target.lat + s.dLat,
            baseLng: target.lng + s.dLng,
          }),
        );
        const chosen = chooseTeam(indexOf(teams), target, [1, 2, 3], context);
        // Reference: filter by tier eligibility and status, sort by (tier, estimate, id).
        const tierOf = (t: RankableTeam) => (t.kind === "maintenance" ? 1 : t.kind === "rescue_station" ? 2 : 3);
        const reference = teams
          .filter((t) => isBookable(t, target.siteId, defaultTierPolicy) && (t.kind !== "maintenance" || t.maintenanceCompanyId === target.companyId))
          .map((t) => ({ t, tier: tierOf(t), etaS: estimator.estimate({ lat: t.baseLat, lng: t.baseLng }, target, { at: now, detourFactor: 1.3, travelRatio: t.travelRatio }).etaS }))
          .sort((a, b) => a.tier - b.tier || a.etaS - b.etaS || a.t.id - b.t.id)[0];
        if (!reference) expect(chosen).toBeNull();
        else expect(chosen).toMatchObject({ tier: reference.tier, candidate: { etaS: reference.etaS } });
      }),
    );
  });
});
