import { Prisma, type PrismaClient } from "../platform/db/generated/client.ts";
import { AGE_BANDS, intervalNames, type CompanyRecord, NON_RESPONSE_STATUSES, REPEAT_WINDOW_DAYS, SHANGHAI_OFFSET_MS, type IntervalName, type IntervalStats } from "./figures.ts";

/**
 * The supervision figures, aggregated in the database (one statement per figure set; nothing loads every
 * incident into JavaScript). Each interval is computed per incident from its milestone columns, which the
 * incident writes set the first time a status is reached, exactly what computeIntervals reads from the
 * timeline (test/integration/analytics-api.test.ts holds the two against each other).
 */

export { groupings, type Grouping } from "../contracts/analytics.ts";
import type { Grouping } from "../contracts/analytics.ts";

export interface AnalyticsFilter {
  from: Date;
  /** Exclusive. */
  to: Date;
  districtId?: number;
  companyId?: number;
}

export interface FigureRow {
  key: string;
  label: string;
  reported: number;
  responses: number;
  cancelled: number;
  falseAlarms: number;
  onTime: number;
  onTimeRate: number | null;
  intervals: Record<IntervalName, IntervalStats>;
}

const MILESTONE: Record<IntervalName, [string, string]> = {
  callProcessingS: ["reportedAt", "dispatchedAt"],
  acceptanceS: ["dispatchedAt", "acceptedAt"],
  travelS: ["enRouteAt", "onSceneAt"],
  arrivalS: ["reportedAt", "onSceneAt"],
  extricationS: ["onSceneAt", "releasedAt"],
  entrapmentS: ["reportedAt", "releasedAt"],
};

const nonResponse = Prisma.join(NON_RESPONSE_STATUSES.map((s) => Prisma.sql`${s}`));

/** Whole seconds between two milestones, rounded as computeIntervals rounds; null for non-response incidents. */
const intervalSql = (name: IntervalName) => {
  const [from, to] = MILESTONE[name];
  return Prisma.raw(
    `CASE WHEN i.status::text IN ('cancelled','false_alarm') THEN NULL ELSE round(extract(epoch FROM (i."${to}" - i."${from}")))::float8 END`,
  );
};

const shanghaiMonthSql = Prisma.raw(`to_char(i."reportedAt" + interval '${SHANGHAI_OFFSET_MS / 3600_000} hours', 'YYYY-MM')`);

const ageBandSql = Prisma.raw(
  `CASE ${AGE_BANDS.filter((b) => Number.isFinite(b.maxYears))
    .map((b) => `WHEN extract(epoch FROM (i."reportedAt" - e."installDate"::timestamp)) < ${b.maxYears} * 365.25 * 86400 THEN '${b.key}'`)
    .join(" ")} ELSE '${AGE_BANDS[AGE_BANDS.length - 1]!.key}' END`,
);

const groupKeySql: Record<Grouping, Prisma.Sql> = {
  none: Prisma.sql`'all'`,
  company: Prisma.sql`e."maintenanceCompanyId"::text`,
  district: Prisma.sql`i."districtId"::text`,
  brand: Prisma.sql`e.brand`,
  ageBand: ageBandSql,
  placeType: Prisma.sql`s."placeType"`,
  source: Prisma.sql`i.source::text`,
  month: shanghaiMonthSql,
};

function whereSql(filter: AnalyticsFilter, extra: { key?: { grouping: Grouping; value: string } } = {}): Prisma.Sql {
  const parts = [Prisma.sql`i."reportedAt" >= ${filter.from}::timestamp(3)`, Prisma.sql`i."reportedAt" < ${filter.to}::timestamp(3)`];
  if (filter.districtId !== undefined) parts.push(Prisma.sql`i."districtId" = ${filter.districtId}::int`);
  if (filter.companyId !== undefined) parts.push(Prisma.sql`e."maintenanceCompanyId" = ${filter.companyId}::int`);
  if (extra.key && extra.key.grouping !== "none") parts.push(Prisma.sql`(${groupKeySql[extra.key.grouping]}) = ${extra.key.value}::text`);
  return Prisma.join(parts, " AND ");
}

const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

export interface IncidentBehind {
  id: number;
  code: string;
  status: string;
  source: string;
  reportedAt: string;
  district: string;
  company: string;
  rescueCode: string;
  site: string;
  arrivalS: number | null;
  arrivalLimitS: number;
}

export interface CallCentreFigures {
  calls: number;
  answered: number;
  answeredWithin15s: number;
  abandoned: number;
  answerP90S: number | null;
  becameIncidents: number;
  incidentShare: number | null;
  answeredWithin15sRate: number | null;
}

export interface IotRow {
  model: string;
  alarms: number;
  withIncident: number;
  confirmed: number;
  falseAlarms: number;
  falseAlarmRate: number | null;
}

export interface TrappingRow {
  elevatorId: number;
  rescueCode: string;
  site: string;
  district: string;
  company: string;
  brand: string;
  entrapments: number;
  lastAt: string;
}

export interface RepeatRow {
  incidentId: number;
  code: string;
  previousIncidentId: number;
  previousCode: string;
  gapDays: number;
  reportedAt: string;
  elevatorId: number;
  rescueCode: string;
  site: string;
  company: string;
}

export interface CompanyRecordRow extends CompanyRecord {
  companyId: number;
  company: string;
}

export interface AnalyticsRepository {
  figures(filter: AnalyticsFilter, grouping: Grouping): Promise<FigureRow[]>;
  incidentsBehind(filter: AnalyticsFilter, key: { grouping: Grouping; value: string } | null, limit: number): Promise<{ total: number; items: IncidentBehind[] }>;
  callCentre(filter: Pick<AnalyticsFilter, "from" | "to">): Promise<CallCentreFigures>;
  iot(filter: AnalyticsFilter): Promise<IotRow[]>;
  mostTrapping(filter: Omit<AnalyticsFilter, "from">, days: number, limit: number): Promise<TrappingRow[]>;
  repeats(filter: AnalyticsFilter, limit: number): Promise<RepeatRow[]>;
  companyRecords(filter: AnalyticsFilter): Promise<CompanyRecordRow[]>;
  /** Names for the group keys that are ids. */
  labels(): Promise<{ companies: Map<string, string>; districts: Map<string, string> }>;
}

const iso = (d: Date | string) => (d instanceof Date ? d.toISOString() : new Date(d).toISOString());

export function createAnalyticsRepository(prisma: PrismaClient): AnalyticsRepository {
  let labelCache: { at: number; value: { companies: Map<string, string>; districts: Map<string, string> } } | null = null;

  async function labels() {
    // Companies and districts change rarely (register imports); a minute's staleness costs nothing here.
    if (labelCache && Date.now() - labelCache.at < 60_000) return labelCache.value;
    const [companies, districts] = await Promise.all([
      prisma.maintenanceCompany.findMany({ select: { id: true, name: true } }),
      prisma.district.findMany({ select: { id: true, name: true } }),
    ]);
    const value = {
      companies: new Map(companies.map((c) => [String(c.id), c.name])),
      districts: new Map(districts.map((d) => [String(d.id), d.name])),
    };
    labelCache = { at: Date.now(), value };
    return value;
  }

  return {
    labels,

    async figures(filter, grouping) {
      const aggregates = intervalNames.map((name) => {
        const q = Prisma.raw(`"${name}"`);
        return Prisma.sql`count(${q})::int AS ${Prisma.raw(`"${name}_count"`)}, avg(${q})::float8 AS ${Prisma.raw(`"${name}_mean"`)},
          percentile_cont(0.5) WITHIN GROUP (ORDER BY ${q}) AS ${Prisma.raw(`"${name}_median"`)},
          percentile_cont(0.9) WITHIN GROUP (ORDER BY ${q}) AS ${Prisma.raw(`"${name}_p90"`)}`;
      });
      const rows = (await prisma.$queryRaw`
        WITH base AS (
          SELECT ${groupKeySql[grouping]} AS key, i.status::text AS status,
                 ${Prisma.join(intervalNames.map((name) => Prisma.sql`${intervalSql(name)} AS ${Prisma.raw(`"${name}"`)}`))},
                 extract(epoch FROM (i."arrivalDeadlineAt" - i."reportedAt"))::float8 AS "limitS"
          FROM incidents i JOIN elevators e ON e.id = i."elevatorId" JOIN sites s ON s.id = e."siteId"
          WHERE ${whereSql(filter)})
        SELECT key, count(*)::int AS reported,
               count(*) FILTER (WHERE status NOT IN (${nonResponse}))::int AS responses,
               count(*) FILTER (WHERE status = 'cancelled')::int AS cancelled,
               count(*) FILTER (WHERE status = 'false_alarm')::int AS "falseAlarms",
               count(*) FILTER (WHERE "arrivalS" <= "limitS")::int AS "onTime",
               ${Prisma.join(aggregates)}
        FROM base GROUP BY key ORDER BY key`) as Record<string, unknown>[];
      const names = grouping === "company" || grouping === "district" ? await labels() : null;
      return rows.map((row) => {
        const key = String(row.key);
        const intervals = Object.fromEntries(
          intervalNames.map((name) => [
            name,
            { count: Number(row[`${name}_count`]), mean: num(row[`${name}_mean`]), median: num(row[`${name}_median`]), p90: num(row[`${name}_p90`]) },
          ]),
        ) as Record<IntervalName, IntervalStats>;
        const label = grouping === "company" ? names!.companies.get(key) : grouping === "district" ? names!.districts.get(key) : key;
        const arrivals = intervals.arrivalS.count;
        return {
          key,
          label: label ?? key,
          reported: Number(row.reported),
          responses: Number(row.responses),
          cancelled: Number(row.cancelled),
          falseAlarms: Number(row.falseAlarms),
          onTime: Number(row.onTime),
          onTimeRate: arrivals ? Number(row.onTime) / arrivals : null,
          intervals,
        };
      });
    },

    async incidentsBehind(filter, key, limit) {
      const where = whereSql(filter, key ? { key } : {});
      const [rows, total] = await Promise.all([
        prisma.$queryRaw`
          SELECT i.id, i.code, i.status::text AS status, i.source::text AS source, i."reportedAt", d.name AS district,
                 c.name AS company, e."rescueCode", s.name AS site, ${intervalSql("arrivalS")} AS "arrivalS",
                 extract(epoch FROM (i."arrivalDeadlineAt" - i."reportedAt"))::float8 AS "arrivalLimitS"
          FROM incidents i JOIN elevators e ON e.id = i."elevatorId" JOIN sites s ON s.id = e."siteId"
               JOIN districts d ON d.id = i."districtId" JOIN maintenance_companies c ON c.id = e."maintenanceCompanyId"
          WHERE ${where}
          ORDER BY i."reportedAt" DESC, i.id DESC LIMIT ${limit}::int` as Promise<Record<string, unknown>[]>,
        prisma.$queryRaw`
          SELECT count(*)::int AS n FROM incidents i JOIN elevators e ON e.id = i."elevatorId" JOIN sites s ON s.id = e."siteId"
          WHERE ${where}` as Promise<{ n: number }[]>,
      ]);
      return {
        total: Number(total[0]?.n ?? 0),
        items: rows.map((r) => ({
          id: Number(r.id),
          code: String(r.code),
          status: String(r.status),
          source: String(r.source),
          reportedAt: iso(r.reportedAt as Date),
          district: String(r.district),
          company: String(r.company),
          rescueCode: String(r.rescueCode),
          site: String(r.site),
          arrivalS: num(r.arrivalS),
          arrivalLimitS: Number(r.arrivalLimitS),
        })),
      };
    },

    async callCentre(filter) {
      const [row] = (await prisma.$queryRaw`
        WITH c AS (
          SELECT "answeredAt", "endedAt", "incidentId",
                 extract(epoch FROM ("answeredAt" - "ringingAt"))::float8 AS "answerS"
          FROM calls WHERE "ringingAt" >= ${filter.from}::timestamp(3) AND "ringingAt" < ${filter.to}::timestamp(3) AND source = 'pbx')
        SELECT count(*)::int AS calls,
               count("answeredAt")::int AS answered,
               count(*) FILTER (WHERE "answerS" <= 15)::int AS "answeredWithin15s",
               count(*) FILTER (WHERE "answeredAt" IS NULL AND "endedAt" IS NOT NULL)::int AS abandoned,
               percentile_cont(0.9) WITHIN GROUP (ORDER BY "answerS") AS "answerP90S",
               count("incidentId")::int AS "becameIncidents"
        FROM c`) as Record<string, unknown>[];
      const calls = Number(row!.calls);
      return {
        calls,
        answered: Number(row!.answered),
        answeredWithin15s: Number(row!.answeredWithin15s),
        abandoned: Number(row!.abandoned),
        answerP90S: num(row!.answerP90S),
        becameIncidents: Number(row!.becameIncidents),
        incidentShare: calls ? Number(row!.becameIncidents) / calls : null,
        answeredWithin15sRate: calls ? Number(row!.answeredWithin15s) / calls : null,
      };
    },

    async iot(filter) {
      const parts = [Prisma.sql`a."receivedAt" >= ${filter.from}::timestamp(3)`, Prisma.sql`a."receivedAt" < ${filter.to}::timestamp(3)`];
      if (filter.districtId !== undefined) parts.push(Prisma.sql`s."districtId" = ${filter.districtId}::int`);
      if (filter.companyId !== undefined) parts.push(Prisma.sql`e."maintenanceCompanyId" = ${filter.companyId}::int`);
      const rows = (await prisma.$queryRaw`
        SELECT COALESCE(dv.firmware, 'unknown') AS model, count(*)::int AS alarms,
               count(i.id)::int AS "withIncident",
               count(i.id) FILTER (WHERE i.status::text NOT IN (${nonResponse}))::int AS confirmed,
               count(i.id) FILTER (WHERE i.status::text = 'false_alarm')::int AS "falseAlarms"
        FROM alarms a JOIN devices dv ON dv.id = a."deviceId"
             LEFT JOIN elevators e ON e.id = a."elevatorId" LEFT JOIN sites s ON s.id = e."siteId"
             LEFT JOIN incidents i ON i.id = a."incidentId"
        WHERE ${Prisma.join(parts, " AND ")}
        GROUP BY 1 ORDER BY 1`) as Record<string, unknown>[];
      return rows.map((r) => {
        const decided = Number(r.confirmed) + Number(r.falseAlarms);
        return {
          model: String(r.model),
          alarms: Number(r.alarms),
          withIncident: Number(r.withIncident),
          confirmed: Number(r.confirmed),
          falseAlarms: Number(r.falseAlarms),
          falseAlarmRate: decided ? Number(r.falseAlarms) / decided : null,
        };
      });
    },

    async mostTrapping(filter, days, limit) {
      const from = new Date(filter.to.getTime() - days * 86_400_000);
      const rows = (await prisma.$queryRaw`
        WITH counted AS (
          SELECT i."elevatorId", count(*)::int AS entrapments, max(i."reportedAt") AS "lastAt"
          FROM incidents i JOIN elevators e ON e.id = i."elevatorId" JOIN sites s ON s.id = e."siteId"
          WHERE ${whereSql({ ...filter, from })} AND i.kind = 'entrapment' AND i.status::text NOT IN (${nonResponse})
          GROUP BY i."elevatorId"
          ORDER BY entrapments DESC, "lastAt" DESC, i."elevatorId" LIMIT ${limit}::int)
        SELECT counted.*, e."rescueCode", e.brand, s.name AS site, d.name AS district, c.name AS company
        FROM counted JOIN elevators e ON e.id = counted."elevatorId" JOIN sites s ON s.id = e."siteId"
             JOIN districts d ON d.id = s."districtId" JOIN maintenance_companies c ON c.id = e."maintenanceCompanyId"
        ORDER BY entrapments DESC, "lastAt" DESC, counted."elevatorId"`) as Record<string, unknown>[];
      return rows.map((r) => ({
        elevatorId: Number(r.elevatorId),
        rescueCode: String(r.rescueCode),
        site: String(r.site),
        district: String(r.district),
        company: String(r.company),
        brand: String(r.brand),
        entrapments: Number(r.entrapments),
        lastAt: iso(r.lastAt as Date),
      }));
    },

    async repeats(filter, limit) {
      // The previous entrapment may lie before the period: look back one window further.
      const lookBack = new Date(filter.from.getTime() - REPEAT_WINDOW_DAYS * 86_400_000);
      const rows = (await prisma.$queryRaw`
        WITH ent AS (
          SELECT i.id, i.code, i."elevatorId", i."reportedAt",
                 lag(i.id) OVER w AS "prevId", lag(i.code) OVER w AS "prevCode", lag(i."reportedAt") OVER w AS "prevAt"
          FROM incidents i JOIN elevators e ON e.id = i."elevatorId" JOIN sites s ON s.id = e."siteId"
          WHERE ${whereSql({ ...filter, from: lookBack })} AND i.kind = 'entrapment' AND i.status::text NOT IN (${nonResponse})
          WINDOW w AS (PARTITION BY i."elevatorId" ORDER BY i."reportedAt", i.id))
        SELECT ent.*, e."rescueCode", s.name AS site, c.name AS company,
               extract(epoch FROM (ent."reportedAt" - ent."prevAt"))::float8 / 86400 AS "gapDays"
        FROM ent JOIN elevators e ON e.id = ent."elevatorId" JOIN sites s ON s.id = e."siteId"
             JOIN maintenance_companies c ON c.id = e."maintenanceCompanyId"
        WHERE ent."reportedAt" >= ${filter.from}::timestamp(3) AND ent."prevAt" IS NOT NULL
          AND ent."reportedAt" - ent."prevAt" <= make_interval(days => ${REPEAT_WINDOW_DAYS}::int)
        ORDER BY ent."reportedAt" DESC, ent.id DESC LIMIT ${limit}::int`) as Record<string, unknown>[];
      return rows.map((r) => ({
        incidentId: Number(r.id),
        code: String(r.code),
        previousIncidentId: Number(r.prevId),
        previousCode: String(r.prevCode),
        gapDays: Math.round(Number(r.gapDays) * 10) / 10,
        reportedAt: iso(r.reportedAt as Date),
        elevatorId: Number(r.elevatorId),
        rescueCode: String(r.rescueCode),
        site: String(r.site),
        company: String(r.company),
      }));
    },

    async companyRecords(filter) {
      const lookBack = new Date(filter.from.getTime() - REPEAT_WINDOW_DAYS * 86_400_000);
      const companyWhere = filter.companyId !== undefined ? Prisma.sql`c.id = ${filter.companyId}::int` : Prisma.sql`true`;
      const offerDistrict = filter.districtId !== undefined ? Prisma.sql`AND i."districtId" = ${filter.districtId}::int` : Prisma.empty;
      const rows = (await prisma.$queryRaw`
        WITH ent AS (
          SELECT i.id, e."maintenanceCompanyId" AS "companyId", i."reportedAt", i.kind::text AS kind,
                 ${intervalSql("arrivalS")} AS "arrivalS",
                 extract(epoch FROM (i."arrivalDeadlineAt" - i."reportedAt"))::float8 AS "limitS",
                 lag(i."reportedAt") OVER (PARTITION BY i."elevatorId", i.kind ORDER BY i."reportedAt", i.id) AS "prevAt"
          FROM incidents i JOIN elevators e ON e.id = i."elevatorId" JOIN sites s ON s.id = e."siteId"
          WHERE ${whereSql({ ...filter, from: lookBack })} AND i.status::text NOT IN (${nonResponse})),
        per_company AS (
          SELECT "companyId",
                 count("arrivalS")::int AS arrivals,
                 count(*) FILTER (WHERE "arrivalS" <= "limitS")::int AS "onTime",
                 count(*) FILTER (WHERE kind = 'entrapment')::int AS entrapments,
                 count(*) FILTER (WHERE kind = 'entrapment' AND "prevAt" IS NOT NULL
                                  AND "reportedAt" - "prevAt" <= make_interval(days => ${REPEAT_WINDOW_DAYS}::int))::int AS repeats
          FROM ent WHERE "reportedAt" >= ${filter.from}::timestamp(3) GROUP BY "companyId"),
        offers AS (
          SELECT t."maintenanceCompanyId" AS "companyId",
                 count(*) FILTER (WHERE o.status IN ('accepted', 'completed'))::int AS accepted,
                 count(*) FILTER (WHERE o.status = 'declined')::int AS declined,
                 count(*) FILTER (WHERE o.status = 'expired')::int AS expired
          FROM dispatch_offers o JOIN teams t ON t.id = o."teamId" JOIN incidents i ON i.id = o."incidentId"
          WHERE o."offeredAt" >= ${filter.from}::timestamp(3) AND o."offeredAt" < ${filter.to}::timestamp(3)
                AND t."maintenanceCompanyId" IS NOT NULL ${offerDistrict}
          GROUP BY 1)
        SELECT c.id AS "companyId", c.name AS company,
               COALESCE(p.arrivals, 0) AS arrivals, COALESCE(p."onTime", 0) AS "onTime",
               COALESCE(p.entrapments, 0) AS entrapments, COALESCE(p.repeats, 0) AS repeats,
               COALESCE(o.accepted, 0) AS "offersAccepted", COALESCE(o.declined, 0) AS "offersDeclined",
               COALESCE(o.expired, 0) AS "offersExpired"
        FROM maintenance_companies c LEFT JOIN per_company p ON p."companyId" = c.id LEFT JOIN offers o ON o."companyId" = c.id
        WHERE ${companyWhere} AND (p."companyId" IS NOT NULL OR o."companyId" IS NOT NULL)
        ORDER BY c.id`) as Record<string, unknown>[];
      return rows.map((r) => ({
        companyId: Number(r.companyId),
        company: String(r.company),
        arrivals: Number(r.arrivals),
        onTime: Number(r.onTime),
        offersAccepted: Number(r.offersAccepted),
        offersDeclined: Number(r.offersDeclined),
        offersExpired: Number(r.offersExpired),
        entrapments: Number(r.entrapments),
        repeats: Number(r.repeats),
      }));
    },
  };
}
