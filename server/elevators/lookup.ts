import type { ElevatorCandidate, LookupResult } from "../contracts/index.ts";
import type { CandidateRow, ElevatorRepository } from "./repository.ts";

/**
 * Elevator identification while the passenger is on the line: which lookup a query means, the close
 * matches when a code is unknown, and the alarms nearby. The queries are the repository's.
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

function toCandidate(row: CandidateRow, match: ElevatorCandidate["match"]): ElevatorCandidate {
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
  constructor(private readonly elevators: ElevatorRepository) {}

  /** Elevators with any of these codes (a misread code's neighbours). */
  byCodes(column: "rescueCode" | "registrationCode", codes: string[], limit: number): Promise<CandidateRow[]> {
    return this.elevators.byCodes(column, codes, limit);
  }

  /** Active alarms within radiusM of a point, nearest first: a bounding box in SQL, the exact distance here. */
  async nearbyAlarms(lat: number, lng: number, radiusM: number): Promise<LookupResult["nearbyAlarms"]> {
    const dLat = radiusM / 111_320;
    const dLng = radiusM / (111_320 * Math.cos((lat * Math.PI) / 180));
    const rows = await this.elevators.activeAlarmsIn({ south: lat - dLat, north: lat + dLat, west: lng - dLng, east: lng + dLng });
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
    let hint: LookupResult["hint"] = null;

    const previous = caller ? await this.elevators.previousCalls(caller, 10) : [];
    const previousSites = async () => {
      const ids = [...new Set(previous.map((c) => c.elevatorId).filter((id): id is number => id !== null))];
      return ids.length ? this.elevators.byIds(ids) : [];
    };

    if (kind === "rescue_code" || kind === "registration_code") {
      const code = compact!;
      const rows = kind === "rescue_code" ? await this.elevators.byRescueCode(code) : await this.elevators.byRegistrationCode(code);
      candidates = rows.map((r) => toCandidate(r, kind));
      const label = kind === "rescue_code" ? "救援识别码" : "注册代码";
      if (candidates.length) {
        message = `${label} ${code}: ${candidates[0]!.site.name} ${candidates[0]!.unitNo}`;
      } else {
        const near = await this.elevators.byCodes(kind === "rescue_code" ? "rescueCode" : "registrationCode", nearCodes(code), input.limit);
        closeMatches = near.map((r) => toCandidate(r, "near_code"));
        // Same-building elevators of the caller's earlier calls: a passenger often misreads one digit of
        // the sign in the car they ride every day.
        const known = await previousSites();
        if (known.length) {
          const sameSite = await this.elevators.bySites([...new Set(known.map((r) => r.siteId))], input.limit);
          closeMatches.push(...sameSite.filter((r) => !closeMatches.some((c) => c.id === r.id)).map((r) => toCandidate(r, "same_site")));
        }
        hint = closeMatches.length ? "unknown_code" : "unknown_code_no_close";
        message =
          `没有${label}为 ${code} 的电梯 (no elevator has ${kind === "rescue_code" ? "rescue" : "registration"} code ${code}); ` +
          (closeMatches.length
            ? `${closeMatches.length} 个相近结果 (close matches): 一位数字不同或同一楼宇`
            : "也没有一位数字不同的编码, 请核对电梯内96333标识或按地址查找 (check the sign in the car, or search by address)");
      }
    } else if (kind === "text") {
      const rows = await this.elevators.byText(q!, input.limit);
      candidates = rows.map((r) => toCandidate(r, "text"));
      if (!candidates.length) {
        hint = "no_text_match";
        // Nothing resembles what the caller said: offer the elevators this number called about before.
        closeMatches = (await previousSites()).map((r) => toCandidate(r, "caller_history"));
      }
      message = candidates.length
        ? `${new Set(candidates.map((c) => c.site.id)).size} 处地点匹配 "${q}"`
        : `没有与 "${q}" 相似的地址或楼宇名称 (no address or building resembles "${q}"); 请换个说法或提供救援识别码`;
    } else {
      message = caller ? `来电号码 ${caller} 有 ${previous.length} 次历史来电` : "按位置查找附近告警";
    }

    if (caller && kind === "caller") {
      candidates = (await previousSites()).map((r) => toCandidate(r, "caller_history"));
      if (!candidates.length) hint = "no_caller_history";
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
      hint,
      candidates,
      closeMatches,
      previousCalls: previous.map((c) => ({
        callId: c.id,
        ringingAt: c.ringingAt.toISOString(),
        elevatorId: c.elevatorId,
        rescueCode: c.elevatorRescueCode ?? c.rescueCode ?? null,
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
