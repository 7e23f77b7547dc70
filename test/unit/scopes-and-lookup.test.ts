import { describe, expect, it } from "vitest";
import { accessChecks } from "../../server/auth/scopes.ts";
import { scopeOf, teamListedTo, type ActorScope } from "../../server/auth/actor-scope.ts";
import type { AccessRepository } from "../../server/auth/repository.ts";
import type { SessionUser } from "../../server/auth/roles.ts";
import { ElevatorLookup } from "../../server/elevators/lookup.ts";
import type { CandidateRow, ElevatorRepository, PreviousCall } from "../../server/elevators/repository.ts";

/** A fake that answers only what the test stubbed and fails on any other call (Immich's strict fakes). */
function strict<T extends object>(stubs: Partial<T>): T {
  return new Proxy(stubs, {
    get(target, key) {
      if (key in target) return target[key as keyof typeof target];
      if (key === "then") return undefined; // not a promise
      return () => {
        throw new Error(`unexpected call: ${String(key)}`);
      };
    },
  }) as T;
}

const user = (over: Partial<SessionUser>): SessionUser => ({
  id: 1,
  username: "u",
  displayName: "U",
  role: "dispatcher",
  maintenanceCompanyId: null,
  teamId: null,
  sessionId: 1,
  ...over,
});

describe("the actor's scope", () => {
  it("is the whole city for the centre, a company for its admin, a team for its rescuer", () => {
    for (const role of ["dispatcher", "supervisor", "admin"] as const) expect(scopeOf(user({ role }))).toEqual({ kind: "centre" });
    expect(scopeOf(user({ role: "company_admin", maintenanceCompanyId: 7 }))).toEqual({ kind: "company", companyId: 7 });
    expect(scopeOf(user({ role: "rescuer", teamId: 3, maintenanceCompanyId: 7 }))).toEqual({ kind: "team", teamId: 3 });
  });

  it("is nothing, never the city, for an account missing the company or team its role needs", () => {
    expect(scopeOf(user({ role: "company_admin", maintenanceCompanyId: null }))).toEqual({ kind: "nothing" });
    expect(scopeOf(user({ role: "rescuer", teamId: null }))).toEqual({ kind: "nothing" });
  });

  it("lists a company admin its own teams, a rescuer every crew, an unscoped account none", () => {
    const teams = [{ maintenanceCompanyId: 1 }, { maintenanceCompanyId: 2 }, { maintenanceCompanyId: null }];
    const listed = (scope: ActorScope) => teams.filter((t) => teamListedTo(scope, t)).length;
    expect(listed({ kind: "centre" })).toBe(3);
    expect(listed({ kind: "team", teamId: 9 })).toBe(3);
    expect(listed({ kind: "company", companyId: 2 })).toBe(1);
    expect(listed({ kind: "nothing" })).toBe(0);
  });

  it("checks one resource through the access repository with the caller's scope, and spares the centre the query", async () => {
    const asked: { scope: ActorScope; ids: readonly number[] }[] = [];
    const access = strict<AccessRepository>({
      async incidents(scope, ids) {
        asked.push({ scope, ids });
        return new Set(ids.filter((id) => id === 10));
      },
    });
    const checks = accessChecks(access);
    expect(await checks.incident(user({ role: "company_admin", maintenanceCompanyId: 4 }), 10)).toBe(true);
    expect(await checks.incident(user({ role: "company_admin", maintenanceCompanyId: 4 }), 11)).toBe(false);
    expect(asked).toEqual([
      { scope: { kind: "company", companyId: 4 }, ids: [10] },
      { scope: { kind: "company", companyId: 4 }, ids: [11] },
    ]);
    // A strict fake without teams(): the centre's check must not reach the repository at all.
    expect(await checks.team(user({ role: "dispatcher" }), 99)).toBe(true);
  });
});

const row = (id: number, over: Partial<CandidateRow> = {}): CandidateRow => ({
  id,
  rescueCode: String(100000 + id),
  registrationCode: String(id).padStart(20, "3"),
  unitNo: `${id}号梯`,
  type: "traction",
  brand: "OTIS",
  siteId: 1,
  siteName: "鞍山西道小区",
  address: "天津市南开区鞍山西道120号",
  lat: 39.12,
  lng: 117.17,
  districtId: 1,
  districtName: "南开区",
  companyId: 1,
  companyName: "维保一公司",
  contactPhone: "022-00000000",
  openIncidentId: null,
  score: null,
  ...over,
});

describe("elevator lookup over a fake repository", () => {
  const base = { radiusM: 1000, limit: 20 };

  it("answers an unknown rescue code with the codes one digit away and the caller's usual building", async () => {
    const previous: PreviousCall[] = [
      { id: 5, ringingAt: new Date("2026-11-20T08:00:00Z"), elevatorId: 7, incidentId: 3, rescueCode: null, elevatorRescueCode: "100007" },
    ];
    const asked: string[][] = [];
    const elevators = strict<ElevatorRepository>({
      byRescueCode: async () => [],
      byCodes: async (_column, codes) => {
        asked.push(codes);
        return [row(1)];
      },
      previousCalls: async () => previous,
      byIds: async (ids) => ids.map((id) => row(id, { siteId: 9 })),
      bySites: async (siteIds) => (siteIds[0] === 9 ? [row(1, { siteId: 9 }), row(7, { siteId: 9 }), row(8, { siteId: 9 })] : []),
      activeAlarmsIn: async () => [],
    });
    const result = await new ElevatorLookup(elevators).lookup({ ...base, q: "100009", caller: "13800138000" });
    expect(result.kind).toBe("rescue_code");
    expect(result.found).toBe(false);
    expect(asked[0]).toContain("100008");
    expect(asked[0]).not.toContain("100009");
    // The near code first, then the same building's other lifts without repeating elevator 1.
    expect(result.closeMatches.map((c) => [c.id, c.match])).toEqual([
      [1, "near_code"],
      [7, "same_site"],
      [8, "same_site"],
    ]);
    expect(result.previousCalls).toEqual([{ callId: 5, ringingAt: "2026-11-20T08:00:00.000Z", elevatorId: 7, rescueCode: "100007", incidentId: 3 }]);
  });

  it("keeps only alarms within the radius of the found elevator, nearest first", async () => {
    const alarm = (id: number, lat: number) => ({
      id,
      code: "trapped",
      severity: "critical",
      receivedAt: new Date("2026-11-27T08:00:00Z"),
      elevatorId: id,
      rescueCode: "100001",
      siteName: "x",
      lat,
      lng: 117.17,
      incidentId: null,
    });
    const elevators = strict<ElevatorRepository>({
      byRescueCode: async () => [row(1)],
      // 0.005 degrees of latitude is ~557 m, 0.02 ~2.2 km: the box is coarse, the radius exact.
      activeAlarmsIn: async () => [alarm(1, 39.12 + 0.005), alarm(2, 39.12 + 0.001), alarm(3, 39.12 + 0.02)],
    });
    const result = await new ElevatorLookup(elevators).lookup({ ...base, q: "100001" });
    expect(result.candidates.map((c) => c.id)).toEqual([1]);
    expect(result.nearbyAlarms.map((a) => a.alarmId)).toEqual([2, 1]);
  });
});
