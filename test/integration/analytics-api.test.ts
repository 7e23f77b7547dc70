import { afterAll, beforeAll, describe, expect, it } from "vitest";
import fc from "fast-check";
import ExcelJS from "exceljs";
import { startTestPlatform, type TestPlatform } from "../support/platform.ts";
import { openOrAttachIncident, transitionIncident } from "../../server/incidents/repository/writes.ts";
import type { IncidentStatus } from "../../server/contracts/lifecycle.ts";
import { groupFigures, intervalNames, shanghaiMonth, type FigureIncident } from "../../server/analytics/figures.ts";
import { generateHistory, loadDemoHistory, readRoster } from "../../server/seed/history.ts";
import type { CompaniesView, FiguresView, IncidentsBehindView, TrappingView } from "../../server/contracts/analytics.ts";

/**
 * The analytics API on the real database: known answers worked out by hand, the SQL against the pure
 * figures over incidents written by the incident writes, role scoping with exact statuses, and the
 * CSV / XLSX exports read back.
 */
describe("supervision analytics API", () => {
  let platform: TestPlatform;
  let companyOne: { elevatorA: number; elevatorB: number };
  let otherElevator: number;
  let otherCompanyId: number;
  let limitS: number;

  const actor = { type: "user" as const, id: "test" };

  /** Writes one incident through the incident writes: `steps` are [status, seconds after the report]. */
  async function incident(elevatorId: number, reportedAt: string, steps: [IncidentStatus, number][], source: "call" | "alarm" | "manual" = "call") {
    const at = new Date(reportedAt);
    return platform.uow.run(async ({ db }) => {
      const { incidentId } = await openOrAttachIncident(db, { elevatorId, kind: "entrapment", source, reportedAt: at, actor });
      for (const [status, s] of steps) await transitionIncident(db, incidentId, status, { actor, at: new Date(at.getTime() + s * 1000) });
      return incidentId;
    });
  }
  const full = (d: number, a: number, e: number, o: number, r: number, c: number): [IncidentStatus, number][] => [
    ["dispatched", d], ["accepted", a], ["en_route", e], ["on_scene", o], ["released", r], ["closed", c],
  ];

  /** percentile_cont's interpolation leaves float noise (102.00000000000001): compare to a thousandth. */
  const r3 = (stats: { count: number; mean: number | null; median: number | null; p90: number | null }) =>
    Object.fromEntries(Object.entries(stats).map(([k, v]) => [k, v === null ? null : Math.round(v * 1000) / 1000]));

  async function get<T>(path: string, as = "supervisor"): Promise<T> {
    const res = await platform.fetch(path, {}, as);
    expect(res.status, `${path} as ${as}: ${res.status}`).toBe(200);
    return (await res.json()) as T;
  }

  beforeAll(async () => {
    platform = await startTestPlatform();
    const prisma = platform.db.prisma;
    // Two lifts of company 1 and one of another company, all in districts with the 30-minute limit.
    const pick = async (companyWhere: string) =>
      prisma.$queryRawUnsafe<{ id: number; companyId: number; limit: number }[]>(`
        SELECT e.id, e."maintenanceCompanyId" AS "companyId", d."arrivalLimitMinutes" AS limit
        FROM elevators e JOIN sites s ON s.id = e."siteId" JOIN districts d ON d.id = s."districtId"
        WHERE ${companyWhere} AND d."arrivalLimitMinutes" = 30 ORDER BY e.id LIMIT 2`);
    const own = await pick(`e."maintenanceCompanyId" = 1`);
    const other = await pick(`e."maintenanceCompanyId" <> 1`);
    companyOne = { elevatorA: own[0]!.id, elevatorB: own[1]!.id };
    otherElevator = other[0]!.id;
    otherCompanyId = other[0]!.companyId;
    limitS = 30 * 60;

    // The known-answer set, January and February 2024 (Asia/Shanghai), nothing else in those months.
    // I1: 23:50 Shanghai on 31 Jan, spans midnight: counts in January.
    await incident(companyOne.elevatorA, "2024-01-31T15:50:00Z", full(60, 90, 120, 1320, 1680, 2000));
    // I2: late (arrival 2000 s > 1800 s).
    await incident(companyOne.elevatorB, "2024-01-15T02:00:00Z", full(120, 180, 200, 2000, 2300, 2400));
    // I5: the same lift again 20 min after I2 closed: a new incident linked as a repeat.
    await incident(companyOne.elevatorB, "2024-01-15T03:00:00Z", full(30, 60, 90, 990, 1290, 1400));
    // I3 false alarm, I4 cancelled: counted as reported, not in the response times.
    await incident(otherElevator, "2024-01-20T03:00:00Z", [["dispatched", 30], ["false_alarm", 100]], "alarm");
    await incident(otherElevator, "2024-01-21T03:00:00Z", [["dispatched", 50], ["cancelled", 100]]);
    // I7: 00:30 Shanghai on 1 Jan is 16:30 UTC on 31 Dec: January in Shanghai.
    await incident(otherElevator, "2023-12-31T16:30:00Z", full(40, 100, 130, 1030, 1300, 1500));
    // I6: 00:10 Shanghai on 1 Feb: February.
    await incident(otherElevator, "2024-01-31T16:10:00Z", full(60, 120, 150, 600, 900, 1000));

  }, 120_000);

  afterAll(async () => {
    await platform?.close();
  });

  it("gives the hand-computed figures for a month in Asia/Shanghai", async () => {
    const jan = await get<FiguresView>("/api/analytics/figures?from=2024-01&to=2024-01");
    const all = jan.rows[0]!;
    expect(all).toMatchObject({ reported: 6, responses: 4, cancelled: 1, falseAlarms: 1, onTime: 3, onTimeRate: 0.75 });
    // arrival: 990, 1030, 1320, 2000
    expect(r3(all.intervals.arrivalS)).toEqual({ count: 4, mean: 1335, median: 1175, p90: 1796 });
    // call processing: 30, 40, 60, 120
    expect(r3(all.intervals.callProcessingS)).toEqual({ count: 4, mean: 62.5, median: 50, p90: 102 });
    // travel: 900 (I5), 900 (I7), 1200 (I1), 1800 (I2)
    expect(r3(all.intervals.travelS)).toEqual({ count: 4, mean: 1200, median: 1050, p90: 1620 });
    // entrapment: 1290, 1300, 1680, 2300
    expect(all.intervals.entrapmentS.median).toBe(1490);

    const byMonth = await get<FiguresView>("/api/analytics/figures?from=2024-01&to=2024-02&groupBy=month");
    expect(byMonth.rows.map((r) => [r.key, r.reported, r.responses, r.intervals.arrivalS.median])).toEqual([
      ["2024-01", 6, 4, 1175],
      ["2024-02", 1, 1, 600],
    ]);

    const bySource = await get<FiguresView>("/api/analytics/figures?from=2024-01&to=2024-01&groupBy=source");
    expect(bySource.rows.map((r) => [r.key, r.reported, r.responses])).toEqual([["alarm", 1, 0], ["call", 5, 4]]);

    const byCompany = await get<FiguresView>("/api/analytics/figures?from=2024-01&to=2024-01&groupBy=company");
    const one = byCompany.rows.find((r) => r.key === "1")!;
    expect(one.intervals.arrivalS).toMatchObject({ count: 3, median: 1320 });
    expect(one.label).not.toBe("1");
  });

  it("drills down from a group to the incidents behind it", async () => {
    const behind = await get<IncidentsBehindView>("/api/analytics/incidents?from=2024-01&to=2024-01&groupBy=company&key=1");
    expect(behind.total).toBe(3);
    expect(behind.items.map((i) => i.arrivalS).sort()).toEqual([1320, 2000, 990].sort());
    const timeline = await platform.fetch(`/api/incidents/${behind.items[0]!.id}/timeline`, {}, "supervisor");
    expect(timeline.status).toBe(200);
  });

  it("lists the repeat entrapment and scores the companies with the documented formula", async () => {
    const repeats = await get<{ rows: { code: string; previousCode: string; gapDays: number }[] }>("/api/analytics/repeats?from=2024-01&to=2024-01");
    expect(repeats.rows).toHaveLength(1);
    expect(repeats.rows[0]!.gapDays).toBeCloseTo(1 / 24, 1);
    const companies = await get<CompaniesView>("/api/analytics/companies?from=2024-01&to=2024-01");
    const one = companies.rows.find((r) => r.companyId === 1)!;
    // on time 2 of 3, no offers (none were made: the writes above skipped dispatch), 1 repeat of 3 entrapments
    expect(one).toMatchObject({ arrivals: 3, onTime: 2, late: 1, entrapments: 3, repeats: 1, redListed: true });
    expect(one.score).toBeCloseTo(100 * (0.5 * (2 / 3) + 0.3 * 1 + 0.2 * (1 - 1 / 3)), 1);
    expect(companies.formula["zh-CN"]).toContain("0.5 × 到场及时率");
    const red = await get<CompaniesView>("/api/analytics/red-list?from=2024-01&to=2024-01");
    expect(red.rows.map((r) => r.companyId)).toEqual([1]);
  });

  it("equals the pure figures over random incidents written by the incident writes", async () => {
    const stepsArb = fc.oneof(
      fc.tuple(fc.integer({ min: 1, max: 400 }), fc.integer({ min: 1, max: 300 }), fc.integer({ min: 0, max: 120 }), fc.integer({ min: 60, max: 3600 }), fc.integer({ min: 30, max: 1800 })).map(
        ([d, a, e, o, r]) => full(d, d + a, d + a + e, d + a + e + o, d + a + e + o + r, d + a + e + o + r + 60),
      ),
      fc.integer({ min: 1, max: 500 }).map((d): [IncidentStatus, number][] => [["dispatched", d], ["false_alarm", d + 30]]),
      fc.integer({ min: 1, max: 500 }).map((d): [IncidentStatus, number][] => [["dispatched", d], ["cancelled", d + 30]]),
      fc.integer({ min: 1, max: 500 }).map((r): [IncidentStatus, number][] => [["released", r], ["closed", r + 60]]),
    );
    // Reports in 2022, spread so the same lift is never open twice; whole seconds to minutes apart.
    const set = fc.sample(
      fc.array(fc.record({ lift: fc.integer({ min: 0, max: 2 }), minute: fc.integer({ min: 0, max: 525_000 }), ms: fc.integer({ min: 0, max: 999 }), steps: stepsArb, source: fc.constantFrom("call" as const, "alarm" as const) }), {
        minLength: 20,
        maxLength: 20,
      }),
      { numRuns: 1, seed: 42 },
    )[0]!;
    const lifts = [companyOne.elevatorA, companyOne.elevatorB, otherElevator];
    const written: FigureIncident[] = [];
    const used = new Set<string>();
    for (const item of set) {
      const key = `${item.lift}-${Math.floor(item.minute / 120)}`;
      if (used.has(key)) continue; // keep reports of one lift two hours apart: each opens its own incident
      used.add(key);
      const reportedAt = new Date(Date.UTC(2022, 0, 1) - 8 * 3600_000 + item.minute * 60_000 + item.ms);
      const id = await incident(lifts[item.lift]!, reportedAt.toISOString(), item.steps, item.source);
      const row = await platform.db.prisma.incident.findUniqueOrThrow({ where: { id }, select: { status: true } });
      const timeline = await platform.db.prisma.incidentEvent.findMany({ where: { incidentId: id }, select: { at: true, toStatus: true, type: true } });
      written.push({ status: row.status, reportedAt, arrivalLimitS: limitS, timeline });
    }
    const byMonth = await get<FiguresView>("/api/analytics/figures?from=2022-01&to=2022-12&groupBy=month");
    const months = new Map<string, FigureIncident[]>();
    for (const w of written) months.set(shanghaiMonth(w.reportedAt), [...(months.get(shanghaiMonth(w.reportedAt)) ?? []), w]);
    expect(byMonth.rows.map((r) => r.key)).toEqual([...months.keys()].sort());
    for (const row of byMonth.rows) {
      const expected = groupFigures(months.get(row.key)!);
      expect({ reported: row.reported, responses: row.responses, cancelled: row.cancelled, falseAlarms: row.falseAlarms, onTime: row.onTime }).toEqual({
        reported: expected.reported, responses: expected.responses, cancelled: expected.cancelled, falseAlarms: expected.falseAlarms, onTime: expected.onTime,
      });
      for (const name of intervalNames) {
        const got = row.intervals[name];
        const want = expected.intervals[name];
        expect(got.count).toBe(want.count);
        for (const k of ["mean", "median", "p90"] as const) {
          if (want[k] === null) expect(got[k]).toBeNull();
          else expect(got[k]).toBeCloseTo(want[k]!, 6);
        }
      }
    }
  }, 120_000);

  it("scopes by role with exact statuses", async () => {
    const routes = ["figures", "trends", "incidents", "most-trapping", "repeats", "companies", "red-list", "call-centre", "iot", "bulletin/2024-01"];
    const cityOnly = new Set(["call-centre", "iot", "bulletin/2024-01"]);
    const expected: Record<string, (route: string) => number> = {
      dispatcher: () => 200,
      supervisor: () => 200,
      admin: () => 200,
      company1: (route) => (cityOnly.has(route) ? 403 : 200),
      rescuer1: () => 403,
    };
    for (const [user, status] of Object.entries(expected)) {
      for (const route of routes) {
        const res = await platform.fetch(`/api/analytics/${route}${route.includes("?") ? "&" : "?"}from=2024-01&to=2024-01`, {}, user);
        expect(`${user} ${route} ${res.status}`).toBe(`${user} ${route} ${status(route)}`);
        await res.arrayBuffer();
      }
    }
    const anonymous = await fetch(`${platform.baseUrl}/api/analytics/figures`);
    expect(anonymous.status).toBe(401);

    // A company admin sees its own company and the city's anonymous averages; another company is refused.
    const own = await get<FiguresView>("/api/analytics/figures?from=2024-01&to=2024-01&groupBy=company", "company1");
    expect(own.rows.map((r) => r.key)).toEqual(["1"]);
    expect(own.city).toMatchObject({ key: "city", reported: 6, responses: 4 });
    const foreign = await platform.fetch(`/api/analytics/figures?company=${otherCompanyId}`, {}, "company1");
    expect(foreign.status).toBe(403);
    const behind = await get<IncidentsBehindView>("/api/analytics/incidents?from=2024-01&to=2024-01", "company1");
    expect(behind.total).toBe(3);
    const companies = await get<CompaniesView>("/api/analytics/companies?from=2024-01&to=2024-01", "company1");
    expect(companies.rows.map((r) => r.companyId)).toEqual([1]);
    expect(companies.city.companyId).toBeNull();
    expect((await platform.fetch("/api/analytics/figures?groupBy=colour", {}, "supervisor")).status).toBe(400);
    expect((await platform.fetch("/api/analytics/figures?from=2024-13", {}, "supervisor")).status).toBe(400);
  });

  it("exports every table as CSV with a BOM and as XLSX", async () => {
    const csv = await platform.fetch("/api/analytics/figures?from=2024-01&to=2024-01&groupBy=company&format=csv", {}, "supervisor");
    expect(csv.status).toBe(200);
    expect(csv.headers.get("content-type")).toContain("text/csv");
    const bytes = new Uint8Array(await csv.arrayBuffer());
    expect([...bytes.slice(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const text = new TextDecoder().decode(bytes.slice(3));
    const lines = text.trim().split("\r\n");
    expect(lines[0]).toContain("维保单位");
    expect(lines[0]).toContain("到场及时率(%)");
    expect(lines.some((l) => l.startsWith("全市,6,4,1,1,75"))).toBe(true);

    const xlsx = await platform.fetch("/api/analytics/figures?from=2024-01&to=2024-01&format=xlsx", {}, "supervisor");
    expect(xlsx.status).toBe(200);
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.load((await xlsx.arrayBuffer()) as never);
    const sheet = workbook.worksheets[0]!;
    const header = (sheet.getRow(1).values as unknown[]).slice(1);
    const values = (sheet.getRow(2).values as unknown[]).slice(1);
    const cell = (name: string) => values[header.indexOf(name)];
    expect(cell("报警数")).toBe(6);
    expect(cell("到场及时率(%)")).toBe(75);
    expect(cell("到场中位数(秒)")).toBe(1175);

    for (const route of ["incidents", "companies", "red-list", "repeats", "most-trapping", "call-centre", "iot", "trends"]) {
      const res = await platform.fetch(`/api/analytics/${route}?from=2024-01&to=2024-01&format=csv`, {}, "supervisor");
      expect(`${route} ${res.status}`).toBe(`${route} 200`);
      expect(new Uint8Array(await res.arrayBuffer())[0]).toBe(0xef);
    }
  });

  it("never mixes demo history into a database that already holds incidents", async () => {
    const until = new Date("2025-12-01T00:00:00+08:00");
    const written = await loadDemoHistory(platform.db.prisma, { months: 12, until, raw: platform.db.raw });
    // The database already holds incidents (the ones above): the demo history never mixes into real records.
    expect(written).toBe(0);
  });

  it("serves the printable bulletin with the screen's numbers", async () => {
    const res = await platform.fetch("/api/analytics/bulletin/2024-01", {}, "supervisor");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/html");
    const html = await res.text();
    expect(html).toContain("2024年1月");
    expect(html).toMatch(/data-figure="reported">6</);
    expect(html).toMatch(/data-figure="arrival-median">19\.6</); // 1175 s
    expect(html).toContain("@media print");
  });
});

describe("demo history", () => {
  let platform: TestPlatform;
  beforeAll(async () => {
    platform = await startTestPlatform();
  }, 60_000);
  afterAll(async () => {
    await platform?.close();
  });

  it("generates a deterministic year whose lists and figures the API answers", async () => {
    const until = new Date("2025-12-01T00:00:00+08:00");
    const written = await loadDemoHistory(platform.db.prisma, { months: 12, until, raw: platform.db.raw });
    expect(written).toBeGreaterThan(300);
    const trends = await get("/api/analytics/trends?to=2025-11");
    expect(trends.months).toHaveLength(12);
    expect(trends.rows.length).toBe(12);
    const districts = await get<FiguresView>("/api/analytics/figures?from=2024-12&to=2025-11&groupBy=district");
    expect(districts.rows.length).toBeGreaterThan(5);
    // Central districts are reached sooner than outer ones in the generated city.
    const top = await get<TrappingView>("/api/analytics/most-trapping?days=90&to=2025-11");
    expect(top.rows.length).toBeGreaterThan(0);
    expect(top.rows[0]!.entrapments).toBeGreaterThanOrEqual(top.rows.at(-1)!.entrapments);
    const calls = await get<{ calls: number; abandoned: number; answerP90S: number }>("/api/analytics/call-centre?from=2024-12&to=2025-11");
    expect(calls.calls).toBeGreaterThan(written / 2);
    expect(calls.abandoned).toBeGreaterThan(0);
    const iot = await get<{ rows: { falseAlarmRate: number }[] }>("/api/analytics/iot?from=2024-12&to=2025-11");
    expect(iot.rows.length).toBeGreaterThan(0);
    const companies = await get<CompaniesView>("/api/analytics/companies?from=2024-12&to=2025-11");
    expect(companies.rows.some((r) => r.redListed)).toBe(true);
    // Same seed, same end, same roster: the same incidents (the generator is deterministic).
    const roster = await readRoster(platform.db.prisma);
    const again = generateHistory(roster, { months: 12, until }, { incident: 1, call: 1 });
    expect(again.incidents.length).toBe(written);
    const stored = await platform.db.prisma.incident.findMany({ take: 50, orderBy: { id: "asc" }, select: { id: true, elevatorId: true, reportedAt: true, status: true, onSceneAt: true } });
    expect(stored).toEqual(again.incidents.slice(0, 50).map((i) => ({ id: i.id, elevatorId: i.elevatorId, reportedAt: i.reportedAt, status: i.status, onSceneAt: i.onSceneAt })));
  }, 120_000);

  async function get<T = { months: string[]; rows: unknown[] }>(path: string): Promise<T> {
    const res = await platform.fetch(path, {}, "supervisor");
    expect(res.status, path).toBe(200);
    return (await res.json()) as T;
  }
});
