import { z } from "zod";

/**
 * Supervision analytics: the figure names, groupings, the company score's formula and the REST shapes,
 * shared by the server and the console's supervision screen.
 */

export const intervalNames = ["callProcessingS", "acceptanceS", "travelS", "arrivalS", "extricationS", "entrapmentS"] as const;
export type IntervalName = (typeof intervalNames)[number];

export const groupings = ["none", "company", "district", "brand", "ageBand", "placeType", "source", "month"] as const;
export type Grouping = (typeof groupings)[number];

/** Shown beside the score on the screen and in the bulletin; docs/analytics.md explains it. */
export const SCORE_FORMULA = {
  "zh-CN": "得分 = 100 × (0.5 × 到场及时率 + 0.3 × 派单应答率 + 0.2 × (1 − 重复困人率))；无样本的分项按满分计",
  en: "score = 100 × (0.5 × on-time arrival rate + 0.3 × offer answer rate + 0.2 × (1 − repeat entrapment rate)); a part without cases counts as met",
} as const;

export const SCORE_WEIGHTS = { onTime: 0.5, answer: 0.3, noRepeat: 0.2 } as const;

const stats = z.object({ count: z.number().int(), mean: z.number().nullable(), median: z.number().nullable(), p90: z.number().nullable() });

export const figureRow = z.object({
  key: z.string(),
  label: z.string(),
  reported: z.number().int(),
  responses: z.number().int(),
  cancelled: z.number().int(),
  falseAlarms: z.number().int(),
  onTime: z.number().int(),
  onTimeRate: z.number().nullable(),
  intervals: z.object(Object.fromEntries(intervalNames.map((n) => [n, stats])) as Record<IntervalName, typeof stats>),
});
export type FigureRowView = z.infer<typeof figureRow>;

export const period = z.object({ from: z.string(), to: z.string(), fromAt: z.string(), toAt: z.string() });

export const figuresView = z.object({
  period,
  groupBy: z.enum(groupings),
  /** The rows the caller may see (a company admin: its own company only). */
  rows: z.array(figureRow),
  /** The whole city over the same period and district, without names: what a company compares itself with. */
  city: figureRow.nullable(),
});
export type FiguresView = z.infer<typeof figuresView>;

export const trendsView = z.object({ months: z.array(z.string()), rows: z.array(figureRow), city: z.array(figureRow) });
export type TrendsView = z.infer<typeof trendsView>;

export const incidentBehind = z.object({
  id: z.number().int(),
  code: z.string(),
  status: z.string(),
  source: z.string(),
  reportedAt: z.string(),
  district: z.string(),
  company: z.string(),
  rescueCode: z.string(),
  site: z.string(),
  arrivalS: z.number().nullable(),
  arrivalLimitS: z.number(),
});
export const incidentsBehindView = z.object({ total: z.number().int(), items: z.array(incidentBehind) });
export type IncidentsBehindView = z.infer<typeof incidentsBehindView>;

export const callCentreView = z.object({
  period,
  calls: z.number().int(),
  answered: z.number().int(),
  answeredWithin15s: z.number().int(),
  answeredWithin15sRate: z.number().nullable(),
  abandoned: z.number().int(),
  answerP90S: z.number().nullable(),
  becameIncidents: z.number().int(),
  incidentShare: z.number().nullable(),
});
export type CallCentreView = z.infer<typeof callCentreView>;

export const iotRow = z.object({
  model: z.string(),
  alarms: z.number().int(),
  withIncident: z.number().int(),
  confirmed: z.number().int(),
  falseAlarms: z.number().int(),
  falseAlarmRate: z.number().nullable(),
});
export const iotView = z.object({ period, rows: z.array(iotRow) });
export type IotView = z.infer<typeof iotView>;

export const trappingRow = z.object({
  elevatorId: z.number().int(),
  rescueCode: z.string(),
  site: z.string(),
  district: z.string(),
  company: z.string(),
  brand: z.string(),
  entrapments: z.number().int(),
  lastAt: z.string(),
});
export const trappingView = z.object({ days: z.number().int(), to: z.string(), rows: z.array(trappingRow) });
export type TrappingView = z.infer<typeof trappingView>;

export const repeatRow = z.object({
  incidentId: z.number().int(),
  code: z.string(),
  previousIncidentId: z.number().int(),
  previousCode: z.string(),
  gapDays: z.number(),
  reportedAt: z.string(),
  elevatorId: z.number().int(),
  rescueCode: z.string(),
  site: z.string(),
  company: z.string(),
});
export const repeatsView = z.object({ period, rows: z.array(repeatRow) });
export type RepeatsView = z.infer<typeof repeatsView>;

export const companyScoreRow = z.object({
  companyId: z.number().int().nullable(),
  company: z.string(),
  arrivals: z.number().int(),
  onTime: z.number().int(),
  late: z.number().int(),
  onTimeRate: z.number().nullable(),
  offersAccepted: z.number().int(),
  offersDeclined: z.number().int(),
  offersExpired: z.number().int(),
  answerRate: z.number().nullable(),
  entrapments: z.number().int(),
  repeats: z.number().int(),
  repeatRate: z.number().nullable(),
  score: z.number(),
  redListed: z.boolean(),
});
export type CompanyScoreRow = z.infer<typeof companyScoreRow>;
export const companiesView = z.object({
  period,
  formula: z.object({ "zh-CN": z.string(), en: z.string() }),
  rows: z.array(companyScoreRow),
  /** The city's average company (sums over every company, scored the same way), without names. */
  city: companyScoreRow,
});
export type CompaniesView = z.infer<typeof companiesView>;
