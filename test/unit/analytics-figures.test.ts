import { describe, expect, it } from "vitest";
import fc from "fast-check";
import {
  ageBand,
  companyScore,
  groupFigures,
  intervalStats,
  monthsEndingWith,
  percentileCont,
  redListed,
  scoreRow,
  shanghaiMonth,
  shanghaiMonthBounds,
  sumRecords,
  type CompanyRecord,
} from "../../server/analytics/figures.ts";
import { toCsv } from "../../server/analytics/export.ts";

const at = (iso: string) => new Date(iso);

describe("percentiles as percentile_cont computes them", () => {
  it("interpolates between the nearest ranks", () => {
    expect(percentileCont([990, 1030, 1320, 2000], 0.5)).toBe(1175);
    expect(percentileCont([990, 1030, 1320, 2000], 0.9)).toBeCloseTo(1796, 9);
    expect(percentileCont([7], 0.9)).toBe(7);
    expect(percentileCont([], 0.5)).toBeNull();
    expect(percentileCont([3, 1, 2], 0)).toBe(1);
    expect(percentileCont([3, 1, 2], 1)).toBe(3);
  });

  it("stays between the minimum and the maximum and grows with the fraction", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 10_000 }), { minLength: 1 }), fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true }), (values, a, b) => {
        const [lo, hi] = a < b ? [a, b] : [b, a];
        const pLo = percentileCont(values, lo)!;
        const pHi = percentileCont(values, hi)!;
        expect(pLo).toBeGreaterThanOrEqual(Math.min(...values));
        expect(pHi).toBeLessThanOrEqual(Math.max(...values));
        expect(pHi).toBeGreaterThanOrEqual(pLo - 1e-9);
      }),
    );
  });

  it("summarises count, mean, median and p90", () => {
    expect(intervalStats([30, 40, 60, 120])).toEqual({ count: 4, mean: 62.5, median: 50, p90: expect.closeTo(102, 9) });
    expect(intervalStats([])).toEqual({ count: 0, mean: null, median: null, p90: null });
  });
});

describe("Asia/Shanghai months over UTC storage", () => {
  it("puts 16:00 UTC on the last day into the next month", () => {
    expect(shanghaiMonth(at("2024-01-31T15:59:59.999Z"))).toBe("2024-01");
    expect(shanghaiMonth(at("2024-01-31T16:00:00.000Z"))).toBe("2024-02");
    expect(shanghaiMonth(at("2023-12-31T16:30:00Z"))).toBe("2024-01");
  });
  it("bounds a month in UTC and counts months back across a year end", () => {
    expect(shanghaiMonthBounds("2024-01")).toEqual({ from: at("2023-12-31T16:00:00Z"), to: at("2024-01-31T16:00:00Z") });
    expect(shanghaiMonthBounds("2024-12").to).toEqual(at("2024-12-31T16:00:00Z"));
    expect(monthsEndingWith("2025-02", 4)).toEqual(["2024-11", "2024-12", "2025-01", "2025-02"]);
  });
});

describe("age bands", () => {
  it("counts years from installation to the report", () => {
    expect(ageBand(at("2020-01-01"), at("2024-12-31"))).toBe("0-5");
    expect(ageBand(at("2014-01-01"), at("2024-06-01"))).toBe("10-15");
    expect(ageBand(at("1990-01-01"), at("2024-06-01"))).toBe("20+");
  });
});

describe("group figures from the shared interval function", () => {
  const timeline = (reported: string, steps: [string, number][]) =>
    steps.map(([toStatus, s]) => ({ at: new Date(at(reported).getTime() + s * 1000), toStatus: toStatus as never, type: "transition" }));

  it("leaves cancelled incidents and false alarms out of the response times and counts the on-time arrivals", () => {
    const limit = 1800;
    const figures = groupFigures([
      { status: "closed", reportedAt: at("2024-01-01T00:00:00Z"), arrivalLimitS: limit, timeline: timeline("2024-01-01T00:00:00Z", [["dispatched", 60], ["on_scene", 1800], ["released", 2000]]) },
      { status: "closed", reportedAt: at("2024-01-02T00:00:00Z"), arrivalLimitS: limit, timeline: timeline("2024-01-02T00:00:00Z", [["dispatched", 30], ["on_scene", 1801], ["released", 2000]]) },
      { status: "false_alarm", reportedAt: at("2024-01-03T00:00:00Z"), arrivalLimitS: limit, timeline: timeline("2024-01-03T00:00:00Z", [["dispatched", 10], ["on_scene", 100], ["false_alarm", 200]]) },
      { status: "cancelled", reportedAt: at("2024-01-04T00:00:00Z"), arrivalLimitS: limit, timeline: timeline("2024-01-04T00:00:00Z", [["dispatched", 10], ["cancelled", 20]]) },
      // released before anyone arrived: entrapment measured, no arrival
      { status: "closed", reportedAt: at("2024-01-05T00:00:00Z"), arrivalLimitS: limit, timeline: timeline("2024-01-05T00:00:00Z", [["released", 300]]) },
    ]);
    expect(figures).toMatchObject({ reported: 5, responses: 3, cancelled: 1, falseAlarms: 1, onTime: 1, onTimeRate: 0.5 });
    expect(figures.intervals.arrivalS).toEqual({ count: 2, mean: 1800.5, median: 1800.5, p90: expect.closeTo(1800.9, 9) });
    expect(figures.intervals.entrapmentS.count).toBe(3);
    expect(figures.intervals.callProcessingS.median).toBe(45);
  });
});

describe("company score and red list", () => {
  const record = (r: Partial<CompanyRecord>): CompanyRecord => ({ arrivals: 0, onTime: 0, offersAccepted: 0, offersDeclined: 0, offersExpired: 0, entrapments: 0, repeats: 0, ...r });

  it("weighs on-time arrivals, answered offers and the absence of repeats 50 / 30 / 20", () => {
    expect(companyScore(record({}))).toBe(100);
    expect(companyScore(record({ arrivals: 10, onTime: 8, offersAccepted: 9, offersDeclined: 1, entrapments: 10, repeats: 2 }))).toBe(
      Math.round(1000 * (0.5 * 0.8 + 0.3 * 0.9 + 0.2 * 0.8)) / 10,
    );
    expect(companyScore(record({ arrivals: 4, onTime: 0, offersExpired: 4, entrapments: 4, repeats: 4 }))).toBe(0);
  });

  it("stays within 0-100 and never rises with one more late arrival", () => {
    const counts = fc.integer({ min: 0, max: 50 });
    fc.assert(
      fc.property(counts, counts, counts, counts, counts, counts, (onTime, late, accepted, declined, expired, entrapments) => {
        const r = record({ arrivals: onTime + late, onTime, offersAccepted: accepted, offersDeclined: declined, offersExpired: expired, entrapments, repeats: Math.floor(entrapments / 3) });
        const score = companyScore(r);
        expect(score).toBeGreaterThanOrEqual(0);
        expect(score).toBeLessThanOrEqual(100);
        expect(companyScore({ ...r, arrivals: r.arrivals + 1 })).toBeLessThanOrEqual(score);
      }),
    );
  });

  it("red-lists late arrivals, declined and unanswered offers only", () => {
    expect(redListed(record({ arrivals: 3, onTime: 3, offersAccepted: 5 }))).toBe(false);
    expect(redListed(record({ arrivals: 3, onTime: 2 }))).toBe(true);
    expect(redListed(record({ offersDeclined: 1 }))).toBe(true);
    expect(redListed(record({ offersExpired: 1 }))).toBe(true);
  });

  it("scores the city as the sum of its companies", () => {
    const city = sumRecords([record({ arrivals: 2, onTime: 1 }), record({ arrivals: 2, onTime: 2, offersDeclined: 1 })]);
    expect(scoreRow(null, "全市", city)).toMatchObject({ arrivals: 4, onTime: 3, late: 1, onTimeRate: 0.75, answerRate: 0, redListed: true });
  });
});

describe("CSV export", () => {
  it("starts with a UTF-8 byte-order mark and quotes what needs quoting", () => {
    const csv = toCsv({ name: "t", columns: [{ key: "a", header: "名称" }, { key: "b", header: "值" }], rows: [{ a: '天津,"和平"', b: 1.5 }, { a: "x", b: null }] });
    expect(csv.charCodeAt(0)).toBe(0xfeff);
    expect(csv.slice(1)).toBe('名称,值\r\n"天津,""和平""",1.5\r\nx,\r\n');
  });
});
