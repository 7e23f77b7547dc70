import { Prisma, type PrismaClient } from "../platform/db/generated/client.ts";
import type { ElevatorCard } from "../contracts/index.ts";
import { openStatuses } from "../incidents/lifecycle.ts";

/**
 * The elevator capability's SQL: identification while the passenger is on the line, and the elevator
 * card. Every lookup query is served by an index (unique rescue / registration codes, the trigram GIN
 * indexes on sites, calls(callerNumber, ringingAt)), so each answers in milliseconds on 200,000
 * elevators (see test/bench/lookup.ts).
 */

/** One elevator as a lookup candidate: the elevator with its site, district, company and open incident. */
export interface CandidateRow {
  id: number;
  rescueCode: string;
  registrationCode: string;
  unitNo: string;
  type: string;
  brand: string;
  siteId: number;
  siteName: string;
  address: string;
  lat: number;
  lng: number;
  districtId: number;
  districtName: string;
  companyId: number;
  companyName: string;
  contactPhone: string;
  openIncidentId: number | null;
  /** Text similarity for text matches, null for exact ones. */
  score: number | null;
}

export interface PreviousCall {
  id: number;
  ringingAt: Date;
  elevatorId: number | null;
  incidentId: number | null;
  /** The code the caller gave, and the code of the elevator the call was attached to. */
  rescueCode: string | null;
  elevatorRescueCode: string | null;
}

export interface ActiveAlarmRow {
  id: number;
  code: string;
  severity: string;
  receivedAt: Date;
  elevatorId: number;
  rescueCode: string;
  siteName: string;
  lat: number;
  lng: number;
  incidentId: number | null;
}

export interface LatLngBox {
  south: number;
  north: number;
  west: number;
  east: number;
}

export interface ElevatorRepository {
  /** The maintenance company of each of these elevators (to scope live status to company admins). */
  companiesOf(ids: readonly number[]): Promise<Map<number, number>>;
  byRescueCode(code: string): Promise<CandidateRow[]>;
  byRegistrationCode(code: string): Promise<CandidateRow[]>;
  byCodes(column: "rescueCode" | "registrationCode", codes: string[], limit: number): Promise<CandidateRow[]>;
  byIds(ids: number[]): Promise<CandidateRow[]>;
  /** The elevators of these sites, by site and unit. */
  bySites(siteIds: number[], limit: number): Promise<CandidateRow[]>;
  /** Fuzzy text over site names and addresses, best match first. */
  byText(text: string, limit: number): Promise<CandidateRow[]>;
  /** A number's calls, newest first. */
  previousCalls(callerNumber: string, limit: number): Promise<PreviousCall[]>;
  /** Active alarms of elevators whose site lies in the box, newest first (at most 200). */
  activeAlarmsIn(box: LatLngBox): Promise<ActiveAlarmRow[]>;
  card(rescueCode: string): Promise<ElevatorCard | null>;
}

const openList = Prisma.join(openStatuses.map((s) => Prisma.sql`${s}::"IncidentStatus"`));

const selectCandidates = (where: Prisma.Sql, orderLimit: Prisma.Sql, score: Prisma.Sql = Prisma.sql`NULL::float8`, from: Prisma.Sql = Prisma.empty) => Prisma.sql`
  SELECT e.id, e."rescueCode", e."registrationCode", e."unitNo", e.type, e.brand,
         s.id AS "siteId", s.name AS "siteName", s.address, s.lat, s.lng,
         d.id AS "districtId", d.name AS "districtName",
         m.id AS "companyId", m.name AS "companyName", m."contactPhone",
         (SELECT i.id FROM incidents i WHERE i."elevatorId" = e.id AND i.status IN (${openList})
           ORDER BY i."reportedAt" DESC LIMIT 1) AS "openIncidentId",
         ${score} AS score
  FROM elevators e ${from}
  JOIN sites s ON s.id = e."siteId"
  JOIN districts d ON d.id = s."districtId"
  JOIN maintenance_companies m ON m.id = e."maintenanceCompanyId"
  WHERE ${where}
  ${orderLimit}`;

const day = (d: Date) => d.toISOString().slice(0, 10);

export function createElevatorRepository(prisma: PrismaClient): ElevatorRepository {
  const query = (sql: Prisma.Sql) => prisma.$queryRaw<CandidateRow[]>(sql);
  return {
    byRescueCode: (code) => query(selectCandidates(Prisma.sql`e."rescueCode" = ${code}`, Prisma.empty)),
    byRegistrationCode: (code) => query(selectCandidates(Prisma.sql`e."registrationCode" = ${code}`, Prisma.empty)),
    byCodes(column, codes, limit) {
      const col = column === "rescueCode" ? Prisma.sql`e."rescueCode"` : Prisma.sql`e."registrationCode"`;
      return query(selectCandidates(Prisma.sql`${col} = ANY(${codes})`, Prisma.sql`ORDER BY e.id LIMIT ${limit}`));
    },
    byIds: (ids) => query(selectCandidates(Prisma.sql`e.id = ANY(${ids})`, Prisma.empty)),
    bySites: (siteIds, limit) =>
      query(selectCandidates(Prisma.sql`e."siteId" = ANY(${siteIds})`, Prisma.sql`ORDER BY e."siteId", e."unitNo" LIMIT ${limit}`)),
    /**
     * word_similarity (`<%`) rather than similarity (`%`): a caller says a fragment ("鞍山西道 120号") of a
     * long address, and whole-string similarity punishes the unsaid rest. Both operators are served by the
     * gin_trgm_ops indexes.
     */
    byText(text, limit) {
      const sites = Prisma.sql`(
        SELECT id, score FROM (
          SELECT s2.id, greatest(word_similarity(${text}, s2.name), word_similarity(${text}, s2.address)) AS score
          FROM sites s2 WHERE ${text} <% s2.name OR ${text} <% s2.address
        ) ranked ORDER BY score DESC, id LIMIT ${limit}
      ) hit`;
      return query(
        selectCandidates(
          Prisma.sql`hit.id = e."siteId"`,
          Prisma.sql`ORDER BY hit.score DESC, s.id, e."unitNo" LIMIT ${limit}`,
          Prisma.sql`hit.score`,
          Prisma.sql`JOIN ${sites} ON true`,
        ),
      );
    },
    async previousCalls(callerNumber, limit) {
      const rows = await prisma.call.findMany({
        where: { callerNumber },
        orderBy: { ringingAt: "desc" },
        take: limit,
        select: { id: true, ringingAt: true, elevatorId: true, incidentId: true, rescueCode: true, elevator: { select: { rescueCode: true } } },
      });
      return rows.map(({ elevator, ...call }) => ({ ...call, elevatorRescueCode: elevator?.rescueCode ?? null }));
    },
    // A bounding box so the position columns' range prunes; the exact distance is the caller's to compute.
    activeAlarmsIn: (box) => prisma.$queryRaw<ActiveAlarmRow[]>`
      SELECT a.id, a.code, a.severity::text AS severity, a."receivedAt", a."elevatorId", e."rescueCode", s.name AS "siteName", s.lat, s.lng, a."incidentId"
      FROM alarms a JOIN elevators e ON e.id = a."elevatorId" JOIN sites s ON s.id = e."siteId"
      WHERE a.active AND s.lat BETWEEN ${box.south} AND ${box.north} AND s.lng BETWEEN ${box.west} AND ${box.east}
      ORDER BY a."receivedAt" DESC LIMIT 200`,
    async companiesOf(ids) {
      if (!ids.length) return new Map();
      const rows = await prisma.$queryRaw<{ id: number; companyId: number }[]>`
        SELECT id, "maintenanceCompanyId" AS "companyId" FROM elevators WHERE id = ANY(${[...ids]}::int[])`;
      return new Map(rows.map((r) => [r.id, r.companyId]));
    },
    async card(rescueCode) {
      const e = await prisma.elevator.findUnique({
        where: { rescueCode },
        include: { site: { include: { district: true } }, maintenanceCompany: true, device: { select: { id: true } } },
      });
      if (!e) return null;
      return {
        id: e.id,
        rescueCode: e.rescueCode,
        registrationCode: e.registrationCode,
        type: e.type,
        brand: e.brand,
        model: e.model,
        floors: e.floors,
        unitNo: e.unitNo,
        usageUnit: e.usageUnit,
        installDate: day(e.installDate),
        nextInspectionDue: day(e.nextInspectionDue),
        lastMaintenanceAt: e.lastMaintenanceAt?.toISOString() ?? null,
        inService: e.inService,
        site: { id: e.site.id, name: e.site.name, address: e.site.address, lat: e.site.lat, lng: e.site.lng },
        district: { id: e.site.district.id, name: e.site.district.name },
        maintenanceCompany: {
          id: e.maintenanceCompany.id,
          name: e.maintenanceCompany.name,
          contactName: e.maintenanceCompany.contactName,
          contactPhone: e.maintenanceCompany.contactPhone,
        },
        deviceId: e.device?.id ?? null,
      };
    },
  };
}
