import { z } from "zod";
import type { Response } from "express";
import type { ApiRouter } from "../platform/http.ts";
import { CITY_READERS, READERS, type SessionUser } from "../auth/roles.ts";
import { scopeOf } from "../auth/actor-scope.ts";
import { ApiError } from "../platform/errors.ts";
import {
  callCentreView,
  companiesView,
  figuresView,
  groupings,
  incidentsBehindView,
  intervalNames,
  iotView,
  repeatsView,
  trappingView,
  trendsView,
  type FigureRowView,
  type Grouping,
} from "../contracts/analytics.ts";
import { monthsEndingWith, SCORE_FORMULA, scoreRow, shanghaiMonth, shanghaiMonthBounds, sumRecords } from "./figures.ts";
import type { AnalyticsFilter, AnalyticsRepository } from "./repository.ts";
import { exportFormats, sendTable, type ExportTable } from "./export.ts";
import { bulletinData, renderBulletin, printPdf, type BulletinData } from "./bulletin.ts";

const month = z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/, "a month is YYYY-MM");

/** The query every analytics route takes: a period of Shanghai months, a district, a company, an export format. */
const baseQuery = {
  from: month.optional().describe("first month (Asia/Shanghai), YYYY-MM; default: 11 months before `to`"),
  to: month.optional().describe("last month (Asia/Shanghai), YYYY-MM, inclusive; default: the current month"),
  district: z.coerce.number().int().positive().optional(),
  company: z.coerce.number().int().positive().optional().describe("maintenance company id; a company admin may give only its own"),
  format: z.enum(exportFormats).default("json").describe("json, or the table as csv (UTF-8 with BOM) or xlsx"),
};
const periodQuery = z.object(baseQuery);
type PeriodQuery = z.infer<typeof periodQuery>;

const groupedQuery = z.object({ ...baseQuery, groupBy: z.enum(groupings).default("none") });

const pct = (v: number | null) => (v === null ? null : Math.round(v * 1000) / 10);
const round1 = (v: number | null) => (v === null ? null : Math.round(v * 10) / 10);

export interface ResolvedPeriod {
  from: string;
  to: string;
  fromAt: string;
  toAt: string;
}

export function resolvePeriod(query: { from?: string; to?: string }, now: Date): { period: ResolvedPeriod; range: { from: Date; to: Date } } {
  const to = query.to ?? shanghaiMonth(now);
  const from = query.from ?? monthsEndingWith(to, 12)[0]!;
  if (from > to) throw new ApiError(400, "validation_failed", "invalid query: from: the period starts after it ends");
  const range = { from: shanghaiMonthBounds(from).from, to: shanghaiMonthBounds(to).to };
  return { period: { from, to, fromAt: range.from.toISOString(), toAt: range.to.toISOString() }, range };
}

/**
 * What the caller may see: the centre and the supervisor everything; a company admin its own company
 * only (asking for another company is refused, not silently narrowed); an account without its company
 * nothing.
 */
export function companyScope(user: SessionUser, requested: number | undefined): number | undefined {
  const scope = scopeOf(user);
  if (scope.kind === "centre") return requested;
  if (scope.kind === "company") {
    if (requested !== undefined && requested !== scope.companyId) {
      throw new ApiError(403, "forbidden", "a company admin sees its own company's figures and the city's averages only");
    }
    return scope.companyId;
  }
  throw new ApiError(403, "forbidden", "this account has no company to see figures of");
}

const INTERVAL_LABEL: Record<(typeof intervalNames)[number], string> = {
  callProcessingS: "接警处置",
  acceptanceS: "接单",
  travelS: "途中",
  arrivalS: "到场",
  extricationS: "解救",
  entrapmentS: "被困总时长",
};

export const GROUP_LABEL: Record<Grouping, string> = {
  none: "全部",
  company: "维保单位",
  district: "区",
  brand: "品牌",
  ageBand: "梯龄(年)",
  placeType: "场所类型",
  source: "来源",
  month: "月份",
};

export function figuresTable(name: string, grouping: Grouping, rows: FigureRowView[]): ExportTable {
  const columns = [
    { key: "label", header: GROUP_LABEL[grouping] },
    { key: "reported", header: "报警数" },
    { key: "responses", header: "救援数" },
    { key: "cancelled", header: "取消" },
    { key: "falseAlarms", header: "误报" },
    { key: "onTimeRate", header: "到场及时率(%)" },
  ];
  for (const n of intervalNames) {
    columns.push({ key: `${n}_mean`, header: `${INTERVAL_LABEL[n]}均值(秒)` });
    columns.push({ key: `${n}_median`, header: `${INTERVAL_LABEL[n]}中位数(秒)` });
    columns.push({ key: `${n}_p90`, header: `${INTERVAL_LABEL[n]}P90(秒)` });
  }
  return {
    name,
    columns,
    rows: rows.map((r) => {
      const out: Record<string, string | number | null> = {
        label: r.label,
        reported: r.reported,
        responses: r.responses,
        cancelled: r.cancelled,
        falseAlarms: r.falseAlarms,
        onTimeRate: pct(r.onTimeRate),
      };
      for (const n of intervalNames) {
        out[`${n}_mean`] = round1(r.intervals[n].mean);
        out[`${n}_median`] = round1(r.intervals[n].median);
        out[`${n}_p90`] = round1(r.intervals[n].p90);
      }
      return out;
    }),
  };
}

function tableOf<T extends object>(name: string, columns: [keyof T & string, string][], rows: T[]): ExportTable {
  return {
    name,
    columns: columns.map(([key, header]) => ({ key, header })),
    rows: rows.map((row) => Object.fromEntries(columns.map(([key]) => [key, (row[key] ?? null) as string | number | null]))),
  };
}

/** JSON by default; with ?format=csv|xlsx the table is written to the response and nothing is returned. */
async function answer<T>(res: Response, format: PeriodQuery["format"], json: T, table: () => ExportTable): Promise<T> {
  if (format === "json") return json;
  await sendTable(res, table(), format);
  return undefined as T;
}

export function registerAnalyticsRoutes(api: ApiRouter, deps: { analytics: AnalyticsRepository; clock: () => Date; chromiumPath: string | null }): void {
  const { analytics, clock } = deps;
  const filterOf = (user: SessionUser, query: PeriodQuery) => {
    const companyId = companyScope(user, query.company);
    const { period, range } = resolvePeriod(query, clock());
    const filter: AnalyticsFilter = { ...range, districtId: query.district, companyId };
    return { period, filter };
  };
  const tags = ["analytics"];
  const exportNote = " (?format=csv|xlsx for the table as a file)";

  api.route({
    method: "get",
    path: "/api/analytics/figures",
    summary: `Response-time figures (count, mean, median, p90, on-time rate) grouped by one dimension${exportNote}`,
    tags,
    access: READERS,
    query: groupedQuery,
    response: figuresView,
    handler: async ({ query, user, res }) => {
      const { period, filter } = filterOf(user, query);
      const [rows, cityRows] = await Promise.all([
        analytics.figures(filter, query.groupBy),
        analytics.figures({ ...filter, companyId: undefined }, "none"),
      ]);
      const city = cityRows[0] ? { ...cityRows[0], key: "city", label: "全市" } : null;
      return answer(res, query.format, { period, groupBy: query.groupBy, rows, city }, () =>
        figuresTable(`figures-${query.groupBy}-${period.from}-${period.to}`, query.groupBy, city && query.groupBy !== "none" ? [...rows, city] : rows),
      );
    },
  });

  api.route({
    method: "get",
    path: "/api/analytics/trends",
    summary: `The figures month by month over the 12 months ending with \`to\`, with the city's beside them${exportNote}`,
    tags,
    access: READERS,
    query: periodQuery,
    response: trendsView,
    handler: async ({ query, user, res }) => {
      const to = query.to ?? shanghaiMonth(clock());
      const months = monthsEndingWith(to, 12);
      const { filter } = filterOf(user, { ...query, from: months[0], to });
      const [rows, city] = await Promise.all([
        analytics.figures(filter, "month"),
        filter.companyId === undefined ? Promise.resolve(null) : analytics.figures({ ...filter, companyId: undefined }, "month"),
      ]);
      return answer(res, query.format, { months, rows, city: city ?? rows }, () => figuresTable(`trends-${to}`, "month", rows));
    },
  });

  api.route({
    method: "get",
    path: "/api/analytics/incidents",
    summary: `The incidents behind a figure: the same filters plus one group's key (drill-down)${exportNote}`,
    tags,
    access: READERS,
    query: groupedQuery.extend({
      key: z.string().max(100).optional().describe("the group's key as the figures gave it"),
      limit: z.coerce.number().int().min(1).max(1000).default(200),
    }),
    response: incidentsBehindView,
    handler: async ({ query, user, res }) => {
      const { period, filter } = filterOf(user, query);
      const key = query.key !== undefined && query.groupBy !== "none" ? { grouping: query.groupBy, value: query.key } : null;
      const result = await analytics.incidentsBehind(filter, key, query.limit);
      return answer(res, query.format, result, () =>
        tableOf(`incidents-${period.from}-${period.to}`, [
          ["code", "事件编号"], ["status", "状态"], ["source", "来源"], ["reportedAt", "首报时间(UTC)"], ["district", "区"],
          ["company", "维保单位"], ["rescueCode", "救援识别码"], ["site", "场所"], ["arrivalS", "到场用时(秒)"], ["arrivalLimitS", "到场时限(秒)"],
        ], result.items),
      );
    },
  });

  api.route({
    method: "get",
    path: "/api/analytics/call-centre",
    summary: `Call-centre figures from the telephony events: calls, answered within 15 s, abandoned, answer p90, share that became incidents${exportNote}`,
    tags,
    access: CITY_READERS,
    query: periodQuery,
    response: callCentreView,
    handler: async ({ query, res }) => {
      const { period, range } = resolvePeriod(query, clock());
      const figures = { period, ...(await analytics.callCentre(range)) };
      return answer(res, query.format, figures, () =>
        tableOf(`call-centre-${period.from}-${period.to}`, [
          ["calls", "来电"], ["answered", "接听"], ["answeredWithin15s", "15秒内接听"], ["abandoned", "放弃"],
          ["answerP90S", "接听用时P90(秒)"], ["becameIncidents", "转为事件"],
        ], [figures]),
      );
    },
  });

  api.route({
    method: "get",
    path: "/api/analytics/iot",
    summary: `IoT alarms per device model: alarms, confirmed, false-alarm rate${exportNote}`,
    tags,
    access: CITY_READERS,
    query: periodQuery,
    response: iotView,
    handler: async ({ query, user, res }) => {
      const { period, filter } = filterOf(user, query);
      const rows = await analytics.iot(filter);
      return answer(res, query.format, { period, rows }, () =>
        tableOf(`iot-${period.from}-${period.to}`, [
          ["model", "终端型号"], ["alarms", "报警"], ["withIncident", "生成事件"], ["confirmed", "确认"], ["falseAlarms", "误报"], ["falseAlarmRate", "误报率"],
        ], rows),
      );
    },
  });

  api.route({
    method: "get",
    path: "/api/analytics/most-trapping",
    summary: `The elevators that trapped people most often over the rolling 30 or 90 days ending with \`to\` (top 50)${exportNote}`,
    tags,
    access: READERS,
    query: periodQuery.extend({ days: z.coerce.number().int().pipe(z.union([z.literal(30), z.literal(90)])).default(30) }),
    response: trappingView,
    handler: async ({ query, user, res }) => {
      const companyId = companyScope(user, query.company);
      // Rolling: up to now, or to the end of the month asked for.
      const end = query.to ? shanghaiMonthBounds(query.to).to : clock();
      const rows = await analytics.mostTrapping({ to: end, districtId: query.district, companyId }, query.days, 50);
      return answer(res, query.format, { days: query.days, to: end.toISOString(), rows }, () =>
        tableOf(`most-trapping-${query.days}d`, [
          ["rescueCode", "救援识别码"], ["site", "场所"], ["district", "区"], ["company", "维保单位"], ["brand", "品牌"], ["entrapments", "困人次数"], ["lastAt", "最近一次(UTC)"],
        ], rows),
      );
    },
  });

  api.route({
    method: "get",
    path: "/api/analytics/repeats",
    summary: `Repeat entrapments: the same elevator trapping people again within 30 days${exportNote}`,
    tags,
    access: READERS,
    query: periodQuery,
    response: repeatsView,
    handler: async ({ query, user, res }) => {
      const { period, filter } = filterOf(user, query);
      const rows = await analytics.repeats(filter, 500);
      return answer(res, query.format, { period, rows }, () =>
        tableOf(`repeats-${period.from}-${period.to}`, [
          ["code", "事件编号"], ["previousCode", "上次事件"], ["gapDays", "间隔(天)"], ["reportedAt", "首报时间(UTC)"], ["rescueCode", "救援识别码"], ["site", "场所"], ["company", "维保单位"],
        ], rows),
      );
    },
  });

  const companiesOf = async (user: SessionUser, query: PeriodQuery) => {
    const { period, filter } = filterOf(user, query);
    const all = await analytics.companyRecords({ ...filter, companyId: undefined });
    const city = scoreRow(null, "全市平均", sumRecords(all));
    const visible = filter.companyId === undefined ? all : all.filter((r) => r.companyId === filter.companyId);
    const rows = visible.map(({ companyId, company, ...record }) => scoreRow(companyId, company, record)).sort((a, b) => a.score - b.score || a.company.localeCompare(b.company));
    return { period, formula: SCORE_FORMULA, rows, city };
  };
  const companyColumns: [string, string][] = [
    ["company", "维保单位"], ["score", "得分"], ["arrivals", "到场数"], ["late", "超时到场"], ["onTimeRate", "到场及时率"],
    ["offersAccepted", "接单"], ["offersDeclined", "拒单"], ["offersExpired", "超时未应答"], ["answerRate", "应答率"],
    ["entrapments", "困人"], ["repeats", "重复困人"], ["repeatRate", "重复困人率"],
  ];

  api.route({
    method: "get",
    path: "/api/analytics/companies",
    summary: `Every maintenance company's score (formula beside it) with its parts, and the city's average${exportNote}`,
    tags,
    access: READERS,
    query: periodQuery,
    response: companiesView,
    handler: async ({ query, user, res }) => {
      const view = await companiesOf(user, query);
      return answer(res, query.format, view, () => tableOf(`companies-${view.period.from}-${view.period.to}`, companyColumns as never, view.rows));
    },
  });

  api.route({
    method: "get",
    path: "/api/analytics/red-list",
    summary: `The maintenance companies' red list: late arrivals, declined or unanswered offers in the period${exportNote}`,
    tags,
    access: READERS,
    query: periodQuery,
    response: companiesView,
    handler: async ({ query, user, res }) => {
      const view = await companiesOf(user, query);
      const rows = view.rows.filter((r) => r.redListed).sort((a, b) => b.late + b.offersDeclined + b.offersExpired - (a.late + a.offersDeclined + a.offersExpired));
      return answer(res, query.format, { ...view, rows }, () => tableOf(`red-list-${view.period.from}-${view.period.to}`, companyColumns as never, rows));
    },
  });

  const bulletinOf = async (monthKey: string): Promise<BulletinData> => bulletinData(analytics, monthKey);

  api.route({
    method: "get",
    path: "/api/analytics/bulletin/{month}",
    summary: "The monthly bulletin as a printable page (Chinese); `{YYYY-MM}.pdf` prints it through headless Chromium, 501 without it",
    tags,
    access: CITY_READERS,
    params: z.object({ month: z.string().regex(/^\d{4}-(0[1-9]|1[0-2])(\.pdf)?$/, "YYYY-MM or YYYY-MM.pdf") }),
    response: z.string().describe("text/html, or application/pdf for .pdf"),
    handler: async ({ params, res }) => {
      const pdf = params.month.endsWith(".pdf");
      const monthKey = params.month.slice(0, 7);
      const html = renderBulletin(await bulletinOf(monthKey));
      if (!pdf) {
        res.status(200).type("html").send(html);
        return undefined as never;
      }
      if (!deps.chromiumPath) {
        throw new ApiError(501, "not_implemented", "printing the bulletin as PDF needs Chromium: apt-get install -y chromium fonts-wqy-microhei (or set CHROMIUM_PATH)");
      }
      const body = await printPdf(deps.chromiumPath, html);
      res.status(200).type("application/pdf").setHeader("content-disposition", `inline; filename="bulletin-${monthKey}.pdf"`);
      res.send(body);
      return undefined as never;
    },
  });
}
