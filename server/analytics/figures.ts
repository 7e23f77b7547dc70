import { computeIntervals, type ResponseIntervals, type TimelineEntry } from "../contracts/intervals.ts";

/**
 * The supervision figures as pure functions over plain incidents. The repository computes the same
 * figures in SQL (aggregation in the database); these definitions are what the SQL is tested against.
 */

export { intervalNames, SCORE_FORMULA, SCORE_WEIGHTS, type IntervalName } from "../contracts/analytics.ts";
import { intervalNames, SCORE_WEIGHTS, type IntervalName } from "../contracts/analytics.ts";

/** Statuses whose incidents are left out of the response-time figures: nobody had to be rescued. */
export const NON_RESPONSE_STATUSES = ["cancelled", "false_alarm"] as const;

/** Shanghai has kept UTC+8 without daylight saving since 1991: a fixed offset makes its calendar. */
export const SHANGHAI_OFFSET_MS = 8 * 3600_000;

/** `YYYY-MM` of an instant in Asia/Shanghai. */
export function shanghaiMonth(at: Date): string {
  return new Date(at.getTime() + SHANGHAI_OFFSET_MS).toISOString().slice(0, 7);
}

/** The UTC instants a Shanghai month starts and ends at (end exclusive). */
export function shanghaiMonthBounds(month: string): { from: Date; to: Date } {
  const [year, mon] = month.split("-").map(Number) as [number, number];
  const from = new Date(Date.UTC(year, mon - 1, 1) - SHANGHAI_OFFSET_MS);
  const to = new Date(Date.UTC(year, mon, 1) - SHANGHAI_OFFSET_MS);
  return { from, to };
}

/** The `count` months ending with `last`, oldest first. */
export function monthsEndingWith(last: string, count: number): string[] {
  const [year, mon] = last.split("-").map(Number) as [number, number];
  const out: string[] = [];
  for (let i = count - 1; i >= 0; i--) {
    const d = new Date(Date.UTC(year, mon - 1 - i, 1));
    out.push(d.toISOString().slice(0, 7));
  }
  return out;
}

/** Elevator age bands (years since installation, at the time of the report), as city bulletins print them. */
export const AGE_BANDS = [
  { key: "0-5", maxYears: 5 },
  { key: "5-10", maxYears: 10 },
  { key: "10-15", maxYears: 15 },
  { key: "15-20", maxYears: 20 },
  { key: "20+", maxYears: Infinity },
] as const;

export function ageBand(installDate: Date, at: Date): string {
  const years = (at.getTime() - installDate.getTime()) / (365.25 * 24 * 3600_000);
  return AGE_BANDS.find((band) => years < band.maxYears)!.key;
}

/**
 * Continuous percentile, as PostgreSQL's percentile_cont: linear interpolation between the two nearest
 * ranks of the sorted values. Null for no values.
 */
export function percentileCont(values: readonly number[], fraction: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const position = fraction * (sorted.length - 1);
  const lower = Math.floor(position);
  const upper = Math.ceil(position);
  return sorted[lower]! + (position - lower) * (sorted[upper]! - sorted[lower]!);
}

export interface IntervalStats {
  count: number;
  mean: number | null;
  median: number | null;
  p90: number | null;
}

export function intervalStats(values: readonly number[]): IntervalStats {
  if (values.length === 0) return { count: 0, mean: null, median: null, p90: null };
  return {
    count: values.length,
    mean: values.reduce((s, v) => s + v, 0) / values.length,
    median: percentileCont(values, 0.5),
    p90: percentileCont(values, 0.9),
  };
}

/** One incident as the figures need it. */
export interface FigureIncident {
  status: string;
  reportedAt: Date;
  /** The arrival limit in force when it was reported (the district's, as `arrivalDeadlineAt - reportedAt`). */
  arrivalLimitS: number;
  timeline: readonly TimelineEntry[];
}

export interface GroupFigures {
  /** Incidents reported, every status. */
  reported: number;
  /** Of them, the ones the response-time figures cover (not cancelled, not a false alarm). */
  responses: number;
  cancelled: number;
  falseAlarms: number;
  intervals: Record<IntervalName, IntervalStats>;
  /** Arrivals within the arrival limit. */
  onTime: number;
  /** on time / arrivals measured; null without arrivals. */
  onTimeRate: number | null;
}

/** The figures of one group of incidents, each incident's intervals from the one shared interval function. */
export function groupFigures(incidents: readonly FigureIncident[]): GroupFigures {
  const values = Object.fromEntries(intervalNames.map((name) => [name, [] as number[]])) as Record<IntervalName, number[]>;
  let responses = 0;
  let cancelled = 0;
  let falseAlarms = 0;
  let onTime = 0;
  for (const incident of incidents) {
    if (incident.status === "cancelled") cancelled++;
    if (incident.status === "false_alarm") falseAlarms++;
    if ((NON_RESPONSE_STATUSES as readonly string[]).includes(incident.status)) continue;
    responses++;
    const intervals: ResponseIntervals = computeIntervals(incident.reportedAt, incident.timeline);
    for (const name of intervalNames) {
      const value = intervals[name];
      if (value !== null) values[name].push(value);
    }
    if (intervals.arrivalS !== null && intervals.arrivalS <= incident.arrivalLimitS) onTime++;
  }
  const intervals = Object.fromEntries(intervalNames.map((name) => [name, intervalStats(values[name])])) as Record<IntervalName, IntervalStats>;
  const arrivals = values.arrivalS.length;
  return {
    reported: incidents.length,
    responses,
    cancelled,
    falseAlarms,
    intervals,
    onTime,
    onTimeRate: arrivals ? onTime / arrivals : null,
  };
}

// ---------------------------------------------------------------------------------------------------
// Maintenance company score

/** What a company's score is made of, over one period. */
export interface CompanyRecord {
  arrivals: number;
  onTime: number;
  /** Offers made to the company's teams that were answered (accepted). */
  offersAccepted: number;
  offersDeclined: number;
  /** Offers that ran out without an answer. */
  offersExpired: number;
  /** Entrapments of its elevators (not cancelled, not false alarms). */
  entrapments: number;
  /** Of them, repeats: the same elevator trapped again within 30 days. */
  repeats: number;
}

/**
 * 0-100, higher is better. A part without any case (no arrival, no offer, no entrapment) counts as
 * fully met: a company is not marked down for what did not happen.
 */
export function companyScore(record: CompanyRecord): number {
  const onTimeRate = record.arrivals ? record.onTime / record.arrivals : 1;
  const offers = record.offersAccepted + record.offersDeclined + record.offersExpired;
  const answerRate = offers ? record.offersAccepted / offers : 1;
  const repeatRate = record.entrapments ? record.repeats / record.entrapments : 0;
  const score = 100 * (SCORE_WEIGHTS.onTime * onTimeRate + SCORE_WEIGHTS.answer * answerRate + SCORE_WEIGHTS.noRepeat * (1 - repeatRate));
  return Math.round(score * 10) / 10;
}

/** A company belongs on the red list when it arrived late, declined or let an offer run out in the period. */
export function redListed(record: Pick<CompanyRecord, "arrivals" | "onTime" | "offersDeclined" | "offersExpired">): boolean {
  return record.arrivals - record.onTime > 0 || record.offersDeclined > 0 || record.offersExpired > 0;
}

/** Days within which a second entrapment of the same elevator counts as a repeat. */
export const REPEAT_WINDOW_DAYS = 30;

/** A company's record with its rates, score and red-list flag, as the companies table shows it. */
export function scoreRow(companyId: number | null, company: string, record: CompanyRecord) {
  const offers = record.offersAccepted + record.offersDeclined + record.offersExpired;
  return {
    companyId,
    company,
    ...record,
    late: record.arrivals - record.onTime,
    onTimeRate: record.arrivals ? record.onTime / record.arrivals : null,
    answerRate: offers ? record.offersAccepted / offers : null,
    repeatRate: record.entrapments ? record.repeats / record.entrapments : null,
    score: companyScore(record),
    redListed: redListed(record),
  };
}

/** The sum of several companies' records: the city's record, scored like one company. */
export function sumRecords(records: readonly CompanyRecord[]): CompanyRecord {
  const sum: CompanyRecord = { arrivals: 0, onTime: 0, offersAccepted: 0, offersDeclined: 0, offersExpired: 0, entrapments: 0, repeats: 0 };
  for (const r of records) for (const key of Object.keys(sum) as (keyof CompanyRecord)[]) sum[key] += r[key];
  return sum;
}
