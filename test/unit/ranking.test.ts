import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { chooseTeam, rankTeams, urbanSpeedKmh, type TeamCandidate } from "../../server/dispatch/ranking.ts";

const now = new Date("2026-11-27T04:00:00Z"); // 12:00 in Tianjin
const target = { lat: 39.1175, lng: 117.2001 }; // 和平区
const options = { now, detourFactor: 1.3, staleAfterMs: 5 * 60_000 };

let nextId = 1;
function team(overrides: Partial<TeamCandidate>): TeamCandidate {
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
    ...overrides,
  };
}

describe("dispatch ranking", () => {
  it("estimates arrival from distance x detour factor at the hour's speed", () => {
    const oneKmNorth = team({ baseLat: target.lat + 1 / 111.195 });
    const [ranked] = rankTeams(target, [oneKmNorth], options);
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
    const ranked = rankTeams(target, [stale, fresh], options);
    expect(ranked[0]).toMatchObject({ teamId: fresh.id, usedLivePosition: true, distanceM: 0 });
    expect(ranked[1]).toMatchObject({ teamId: stale.id, usedLivePosition: false });
  });

  it("chooses the contracted company's nearest available team before stations and fire brigades", () => {
    const station = team({ kind: "rescue_station", maintenanceCompanyId: null });
    const otherCompany = team({ maintenanceCompanyId: 2 });
    const busyNear = team({ status: "busy" });
    const farOwn = team({ baseLat: target.lat + 0.1 });
    const nearOwn = team({ baseLat: target.lat + 0.01 });
    expect(chooseTeam(target, 1, [station, otherCompany, busyNear, farOwn, nearOwn], options)?.teamId).toBe(nearOwn.id);
    expect(chooseTeam(target, 1, [station, otherCompany, busyNear], options)).toMatchObject({ teamId: station.id, tier: 2 });
    const fire = team({ kind: "fire", maintenanceCompanyId: null });
    expect(chooseTeam(target, 1, [fire, busyNear], options)).toMatchObject({ teamId: fire.id, tier: 3 });
    expect(chooseTeam(target, 1, [busyNear, otherCompany], options)).toBeNull();
  });

  it("orders by tier, then by estimate, for any set of teams", () => {
    const arbitraryTeam = fc.record({
      kind: fc.constantFrom("maintenance", "rescue_station", "fire" as const),
      dLat: fc.double({ min: -0.5, max: 0.5, noNaN: true }),
      dLng: fc.double({ min: -0.5, max: 0.5, noNaN: true }),
    });
    fc.assert(
      fc.property(fc.array(arbitraryTeam, { maxLength: 40 }), (specs) => {
        const teams = specs.map((s) => team({ kind: s.kind, baseLat: target.lat + s.dLat, baseLng: target.lng + s.dLng }));
        const ranked = rankTeams(target, teams, options);
        expect(ranked).toHaveLength(teams.length);
        for (let i = 1; i < ranked.length; i++) {
          const [a, b] = [ranked[i - 1]!, ranked[i]!];
          expect(a.tier < b.tier || (a.tier === b.tier && a.etaS <= b.etaS)).toBe(true);
        }
      }),
    );
  });
});
