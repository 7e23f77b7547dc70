import { Prisma, type PrismaClient } from "../platform/db/generated/client.ts";
import type { ElevatorCandidate, LookupResult } from "../contracts/index.ts";
import { openStatuses } from "../incidents/lifecycle.ts";

/**
 * Elevator identification while the passenger is on the line: every query below is served by an index
 * (unique rescue / registration codes, the trigram GIN indexes on sites, calls(callerNumber, ringingAt)),
 * so each kind answers in milliseconds on 200,000 elevators (see test/bench/lookup.ts).
 */

export type LookupKind = LookupResult["kind"];

export interface LookupInput {
  q?: string;
  caller?: string;
  lat?: number;
  lng?: number;
  radiusM: number;
  limit: number;
}

const RESCUE = /^\d{6}$/;
const REGISTRATION = /^\d{20}$/;
const PHONE = /^\+?\d{7,15}$/;

/** Which lookup a typed query means: 6 digits a rescue code, 20 a registration code, a phone number a caller, else text. */
export function classifyQuery(raw: string): Exclude<LookupKind, "position"> {
  const q = raw.replace(/[\s-]/g, "");
  if (RESCUE.test(q)) return "rescue_code";
  if (REGISTRATION.test(q)) return "registration_code";
  if (PHONE.test(q)) return "caller";
  return "text";
}

/** Codes a caller most likely meant: one digit misread, or two neighbouring digits swapped. */
export function nearCodes(code: string): string[] {
  const out = new Set<string>();
  for (let i = 0; i < code.length; i++) {
    for (let d = 0; d <= 9; d++) {
      const c = String(d);
      if (c !== code[i]) out.add(code.slice(0, i) + c + code.slice(i + 1));
    }
    if (i + 1 < code.length && code[i] !== code[i + 1]) {
      out.add(code.slice(0, i) + code[i + 1] + code[i] + code.slice(i + 2));
    }
  }
  return [...out];
}

interface Row {
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
  score: number | null;
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

function toCandidate(row: Row, match: ElevatorCandidate["match"]): ElevatorCandidate {
  return {
    id: row.id,
    rescueCode: row.rescueCode,
    registrationCode: row.registrationCode,
    unitNo: row.unitNo,
    type: row.type,
    brand: row.brand,
    site: { id: row.siteId, name: row.siteName, address: row.address, lat: row.lat, lng: row.lng },
    district: { id: row.districtId, name: row.districtName },
    maintenanceCompany: { id: row.companyId, name: row.companyName, contactPhone: row.contactPhone },
    openIncidentId: row.openIncidentId,
    match,
    score: row.score === null ? 1 : Math.round(Number(row.score) * 1000) / 1000,
  };
}

export class ElevatorLookup {
  constructor(private readonly prisma: PrismaClient) {}

  private query(sql: Prisma.Sql): Promise<Row[]> {
    return this.prisma.$queryRaw<Row[]>(sql);
  }

  byRescueCode(code: string): Promise<Row[]> {
    return this.query(selectCandidates(Prisma.sql`e."rescueCode" = ${code}`, Prisma.empty));
  }

  byRegistrationCode(code: string): Promise<Row[]> {
    return this.query(selectCandidates(Prisma.sql`e."registrationCode" = ${code}`, Prisma.empty));
  }

  byCodes(column: "rescueCode" | "registrationCode", codes: string[], limit: number): Promise<Row[]> {
    const col = column === "rescueCode" ? Prisma.sql`e."rescueCode"` : Prisma.sql`e."registrationCode"`;
    return this.query(selectCandidates(Prisma.sql`${col} = ANY(${codes})`, Prisma.sql`ORDER BY e.id LIMIT ${limit}`));
  }

  bySite(siteIds: number[], limit: number): Promise<Row[]> {
    return this.query(selectCandidates(Prisma.sql`e."siteId" = ANY(${siteIds})`, Prisma.sql`ORDER BY e."siteId", e."unitNo" LIMIT ${limit}`));
  }

  /**
   * Fuzzy Chinese text over site names and addresses. word_similarity (`<%`) rather than similarity (`%`):
   * a caller says a fragment ("鞍山西道 120号") of a long address, and whole-string similarity punishes
   * the unsaid rest. Both operators are served by the gin_trgm_ops indexes.
   */
  async byText(text: string, limit: number): Promise<Row[]> {
    const sites = Prisma.sql`(
      SELECT id, score FROM (
        SELECT s2.id, greatest(word_similarity(${text}, s2.name), word_similarity(${text}, s2.address)) AS score
        FROM sites s2 WHERE ${text} <% s2.name OR ${text} <% s2.address
      ) ranked ORDER BY score DESC, id LIMIT ${limit}
    ) hit`;
    return this.query(
      selectCandidates(
        Prisma.sql`hit.id = e."siteId"`,
        Prisma.sql`ORDER BY hit.score DESC, s.id, e."unitNo" LIMIT ${limit}`,
        Prisma.sql`hit.score`,
        Prisma.sql`JOIN ${sites} ON true`,
      ),
    );
  }

  async previousCalls(caller: string, limit = 10) {
    return this.prisma.call.findMany({
      where: { callerNumber: caller },
      orderBy: { ringingAt: "desc" },
      take: limit,
      select: { id: true, ringingAt: true, elevatorId: true, incidentId: true, rescueCode: true, elevator: { select: { rescueCode: true } } },
    });
  }

  /** Active alarms within radiusM of a point; a bounding box first so the position columns' range prunes. */
  async nearbyAlarms(lat: number, lng: number, radiusM: number): Promise<LookupResult["nearbyAlarms"]> {
    const dLat = radiusM / 111_320;
    const dLng = radiusM / (111_320 * Math.cos((lat * Math.PI) / 180));
    const rows = await this.prisma.$queryRaw<
      { id: number; code: string; severity: string; receivedAt: Date; elevatorId: number; rescueCode: string; siteName: string; lat: number; lng: number; incidentId: number | null }[]
    >`
      SELECT a.id, a.code, a.severity::text AS severity, a."receivedAt", a."elevatorId", e."rescueCode", s.name AS "siteName", s.lat, s.lng, a."incidentId"
      FROM alarms a JOIN elevators e ON e.id = a."elevatorId" JOIN sites s ON s.id = e."siteId"
      WHERE a.active AND s.lat BETWEEN ${lat - dLat} AND ${lat + dLat} AND s.lng BETWEEN ${lng - dLng} AND ${lng + dLng}
      ORDER BY a."receivedAt" DESC LIMIT 200`;
    return rows
      .map((r) => ({
        alarmId: r.id,
        code: r.code,
        severity: r.severity,
        receivedAt: r.receivedAt.toISOString(),
        elevatorId: r.elevatorId,
        rescueCode: r.rescueCode,
        siteName: r.siteName,
        distanceM: Math.round(haversineM(lat, lng, r.lat, r.lng)),
        incidentId: r.incidentId,
      }))
      .filter((a) => a.distanceM <= radiusM)
      .sort((a, b) => a.distanceM - b.distanceM)
      .slice(0, 20);
  }

  async lookup(input: LookupInput): Promise<LookupResult> {
    const started = performance.now();
    const q = input.q?.trim() || null;
    const compact = q?.replace(/[\s-]/g, "") ?? null;
    const kind: LookupKind = q ? classifyQuery(q) : input.caller ? "caller" : "position";
    const caller = kind === "caller" && compact ? compact : (input.caller?.replace(/[\s-]/g, "") ?? null);
    let candidates: ElevatorCandidate[] = [];
    let closeMatches: ElevatorCandidate[] = [];
    let message: string;

    const previous = caller ? await this.previousCalls(caller) : [];
    const previousSites = async () => {
      const ids = [...new Set(previous.map((c) => c.elevatorId).filter((id): id is number => id !== null))];
      if (!ids.length) return [];
      const rows = await this.query(selectCandidates(Prisma.sql`e.id = ANY(${ids})`, Prisma.empty));
      return rows;
    };

    if (kind === "rescue_code" || kind === "registration_code") {
      const code = compact!;
      const rows = kind === "rescue_code" ? await this.byRescueCode(code) : await this.byRegistrationCode(code);
      candidates = rows.map((r) => toCandidate(r, kind));
      const label = kind === "rescue_code" ? "救援识别码" : "注册代码";
      if (candidates.length) {
        message = `${label} ${code}: ${candidates[0]!.site.name} ${candidates[0]!.unitNo}`;
      } else {
        const near = await this.byCodes(kind === "rescue_code" ? "rescueCode" : "registrationCode", nearCodes(code), input.limit);
        closeMatches = near.map((r) => toCandidate(r, "near_code"));
        // Same-building elevators of the caller's earlier calls: a passenger often misreads one digit of
        // the sign in the car they ride every day.
        const known = await previousSites();
        if (known.length) {
          const sameSite = await this.bySite([...new Set(known.map((r) => r.siteId))], input.limit);
          closeMatches.push(...sameSite.filter((r) => !closeMatches.some((c) => c.id === r.id)).map((r) => toCandidate(r, "same_site")));
        }
        message =
          `没有${label}为 ${code} 的电梯 (no elevator has ${kind === "rescue_code" ? "rescue" : "registration"} code ${code}); ` +
          (closeMatches.length
            ? `${closeMatches.length} 个相近结果 (close matches): 一位数字不同或同一楼宇`
            : "也没有一位数字不同的编码, 请核对电梯内96333标识或按地址查找 (check the sign in the car, or search by address)");
      }
    } else if (kind === "text") {
      const rows = await this.byText(q!, input.limit);
      candidates = rows.map((r) => toCandidate(r, "text"));
      message = candidates.length
        ? `${new Set(candidates.map((c) => c.site.id)).size} 处地点匹配 "${q}"`
        : `没有与 "${q}" 相似的地址或楼宇名称 (no address or building resembles "${q}"); 请换个说法或提供救援识别码`;
    } else {
      message = caller ? `来电号码 ${caller} 有 ${previous.length} 次历史来电` : "按位置查找附近告警";
    }

    if (caller && kind === "caller") {
      candidates = (await previousSites()).map((r) => toCandidate(r, "caller_history"));
      if (!candidates.length) message = `来电号码 ${caller} 没有历史来电 (no previous calls from this number)`;
    }

    const anchor =
      input.lat !== undefined && input.lng !== undefined
        ? { lat: input.lat, lng: input.lng }
        : candidates[0]
          ? { lat: candidates[0].site.lat, lng: candidates[0].site.lng }
          : null;
    const nearbyAlarms = anchor ? await this.nearbyAlarms(anchor.lat, anchor.lng, input.radiusM) : [];

    return {
      kind,
      query: q,
      found: candidates.length > 0,
      message,
      candidates,
      closeMatches,
      previousCalls: previous.map((c) => ({
        callId: c.id,
        ringingAt: c.ringingAt.toISOString(),
        elevatorId: c.elevatorId,
        rescueCode: c.elevator?.rescueCode ?? c.rescueCode ?? null,
        incidentId: c.incidentId,
      })),
      nearbyAlarms,
      tookMs: Math.round((performance.now() - started) * 10) / 10,
    };
  }
}

function haversineM(lat1: number, lng1: number, lat2: number, lng2: number): number {
  const r = 6_371_000;
  const rad = Math.PI / 180;
  const a =
    Math.sin(((lat2 - lat1) * rad) / 2) ** 2 +
    Math.cos(lat1 * rad) * Math.cos(lat2 * rad) * Math.sin(((lng2 - lng1) * rad) / 2) ** 2;
  return 2 * r * Math.asin(Math.sqrt(a));
}
