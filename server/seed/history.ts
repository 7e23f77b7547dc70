import type { PrismaClient } from "../platform/db/generated/client.ts";
import { checkTransition, type IncidentStatus } from "../contracts/lifecycle.ts";
import { LOCKS } from "../platform/db/locks.ts";
import { insertColumns, inTransaction, type LoadOptions } from "./load.ts";
import { Rng } from "./tianjin.ts";

/**
 * Demo only: months of past incidents for the Tianjin demo city, so that the supervision screen and the
 * bulletin show something real on first start; the analytics benchmark uses the same generator.
 * Deterministic for a seed, an end instant and the roster in the database. Every incident walks the
 * lifecycle state machine (checkTransition refuses a step it does not allow), gets its milestone columns
 * set the first time a status is reached and one timeline entry per step, as the incident writes do; the
 * rows go in by bulk insert because tens of thousands of incidents one write at a time would take minutes.
 * Calls (telephony), alarms (IoT) and dispatch offers are written beside them.
 */

export interface HistoryOptions {
  months: number;
  /** Past incidents end before this instant. */
  until: Date;
  seed?: number;
  /** Incidents per elevator and year (Tianjin bulletins: roughly one; old lifts more). */
  ratePerElevatorYear?: number;
}

export interface Roster {
  elevators: { id: number; districtId: number; companyId: number; central: boolean; installDate: Date; arrivalLimitMinutes: number; deviceId: string | null }[];
  /** Teams of each maintenance company, and the rescue stations' teams by district. */
  companyTeams: Map<number, number[]>;
  stationTeams: number[];
}

export interface HistoryRows {
  incidents: Record<string, unknown>[];
  events: Record<string, unknown>[];
  offers: Record<string, unknown>[];
  calls: Record<string, unknown>[];
  alarms: Record<string, unknown>[];
}

const DAY = 86_400_000;
const SHANGHAI = 8 * 3600_000;
// Share of reports by hour of day (Asia/Shanghai): morning and evening rush, quiet nights.
const HOUR_WEIGHTS = [1, 0.6, 0.4, 0.3, 0.3, 0.5, 1.5, 3.5, 4.5, 3, 2.5, 2.6, 2.8, 2.4, 2.3, 2.4, 2.8, 4, 4.5, 3.5, 2.6, 2, 1.6, 1.2];
const HOUR_CUM = Float64Array.from(HOUR_WEIGHTS.reduce<number[]>((acc, w) => [...acc, (acc.at(-1) ?? 0) + w], []));

/** Log-normal seconds around a median, with spread sigma. */
const lognormal = (rng: Rng, median: number, sigma: number) => Math.max(1, Math.round(median * Math.exp(sigma * rng.gauss())));

export function generateHistory(roster: Roster, options: HistoryOptions, firstIds: { incident: number; call: number }): HistoryRows {
  const rng = new Rng(options.seed ?? 20261203);
  const rows: HistoryRows = { incidents: [], events: [], offers: [], calls: [], alarms: [] };
  if (!roster.elevators.length || options.months <= 0) return rows;
  const spanMs = options.months * 30.44 * DAY;
  const start = options.until.getTime() - spanMs;
  // Each company keeps a character: some are quick, some slow and careless with offers.
  const companyFactor = new Map<number, number>();
  const companyCareless = new Map<number, number>();
  for (const e of roster.elevators) {
    if (!companyFactor.has(e.companyId)) {
      companyFactor.set(e.companyId, 0.75 + rng.float() * 0.7);
      companyCareless.set(e.companyId, rng.float() < 0.3 ? 0.25 : 0.05);
    }
  }
  // Older lifts trap more; a few bad lifts trap again and again (the "top 50" and repeat lists).
  const weights = roster.elevators.map((e) => {
    const age = (options.until.getTime() - e.installDate.getTime()) / (365.25 * DAY);
    return (0.5 + Math.min(age, 25) / 10) * (rng.float() < 0.01 ? 12 : 1);
  });
  const cum = Float64Array.from(weights.reduce<number[]>((acc, w) => [...acc, (acc.at(-1) ?? 0) + w], []));
  const count = Math.round(roster.elevators.length * (options.ratePerElevatorYear ?? 1.2) * (spanMs / (365.25 * DAY)));
  const reportTimes: number[] = [];
  for (let n = 0; n < count; n++) {
    const dayStart = Math.floor((start + rng.float() * spanMs + SHANGHAI) / DAY) * DAY - SHANGHAI;
    reportTimes.push(dayStart + rng.weighted(HOUR_CUM) * 3600_000 + rng.int(0, 3599) * 1000 + rng.int(0, 999));
  }
  reportTimes.sort((a, b) => a - b);
  let incidentId = firstIds.incident;
  let callId = firstIds.call;
  const at = (ms: number) => new Date(ms);
  for (const reported of reportTimes) {
    if (reported >= options.until.getTime()) continue;
    const elevator = roster.elevators[rng.weighted(cum)]!;
    const id = incidentId++;
    const sourceDraw = rng.float();
    const source = elevator.deviceId && sourceDraw < 0.35 ? "alarm" : sourceDraw < 0.92 ? "call" : "manual";
    const kind = rng.float() < 0.85 ? "entrapment" : "fault";
    const rush = [7, 8, 17, 18].includes(new Date(reported + SHANGHAI).getUTCHours()) ? 1.3 : 1;
    const factor = companyFactor.get(elevator.companyId)!;
    const outcome = rng.float();
    const ending: "closed" | "false_alarm" | "cancelled" =
      outcome < (source === "alarm" ? 0.22 : 0.05) ? "false_alarm" : outcome > 0.97 ? "cancelled" : "closed";
    // Milestones in order, each after the one before.
    const steps: [IncidentStatus, number][] = [];
    let t = reported;
    const push = (status: IncidentStatus, after: number) => steps.push([status, (t += after * 1000)]);
    push("dispatched", lognormal(rng, 50, 0.5));
    if (ending === "false_alarm" && rng.chance(0.6)) push("false_alarm", lognormal(rng, 120, 0.6));
    else if (ending === "cancelled") push("cancelled", lognormal(rng, 200, 0.6));
    else {
      push("accepted", lognormal(rng, 35, 0.6));
      push("en_route", lognormal(rng, 30, 0.5));
      const travelMedian = (elevator.central ? 480 : 840) * factor * rush;
      push("on_scene", lognormal(rng, travelMedian, 0.45));
      if (ending === "false_alarm") push("false_alarm", lognormal(rng, 180, 0.5));
      else {
        push("released", lognormal(rng, kind === "entrapment" ? 360 : 900, 0.6));
        push("closed", lognormal(rng, 900, 0.5));
      }
    }
    const milestones: Record<string, Date | null> = { dispatchedAt: null, acceptedAt: null, enRouteAt: null, onSceneAt: null, releasedAt: null, closedAt: null };
    const column: Partial<Record<IncidentStatus, string>> = {
      dispatched: "dispatchedAt", accepted: "acceptedAt", en_route: "enRouteAt", on_scene: "onSceneAt", released: "releasedAt", closed: "closedAt",
    };
    rows.events.push({ incidentId: id, type: "reported", fromStatus: null, toStatus: "reported", actorType: source === "alarm" ? "device" : "user", actorId: source === "alarm" ? elevator.deviceId : "demo-history", at: at(reported), reason: "demo history" });
    let status: IncidentStatus = "reported";
    for (const [to, ms] of steps) {
      const check = checkTransition(status, to, kind);
      if (!check.ok) throw new Error(`history generator broke the state machine: ${status} -> ${to}`);
      const col = column[to];
      if (col && milestones[col] === null) milestones[col] = at(ms);
      rows.events.push({ incidentId: id, type: "transition", fromStatus: status, toStatus: to, actorType: "system", actorId: null, at: at(ms), reason: null });
      status = to;
    }
    const localDay = new Date(reported + SHANGHAI).toISOString().slice(0, 10).replaceAll("-", "");
    rows.incidents.push({
      id, code: `TJ${localDay}-${String(id).padStart(6, "0")}`, kind, status, source, elevatorId: elevator.id, districtId: elevator.districtId,
      reportedAt: at(reported), ...milestones, arrivalDeadlineAt: at(reported + elevator.arrivalLimitMinutes * 60_000),
      trappedCount: kind === "entrapment" ? rng.int(1, 4) : null, version: steps.length, updatedAt: at(steps.at(-1)?.[1] ?? reported),
    });
    // Offers: a careless company lets some offers run out or declines them before one is accepted.
    const dispatchedAt = milestones.dispatchedAt!.getTime();
    const teams = roster.companyTeams.get(elevator.companyId) ?? roster.stationTeams;
    if (teams.length) {
      let offerAt = dispatchedAt;
      while (rng.chance(companyCareless.get(elevator.companyId)!)) {
        const expired = rng.chance(0.6);
        const respondedAt = expired ? null : at(offerAt + rng.int(10, 90) * 1000);
        rows.offers.push({ incidentId: id, teamId: rng.pick(teams), tier: 1, status: expired ? "expired" : "declined", estimatedArrivalS: 900, distanceM: rng.int(800, 9000), offeredAt: at(offerAt), expiresAt: at(offerAt + 180_000), respondedAt, declineReason: expired ? null : "busy" });
        offerAt += 30_000;
      }
      if (milestones.acceptedAt) {
        rows.offers.push({ incidentId: id, teamId: rng.pick(teams), tier: 1, status: "completed", estimatedArrivalS: 900, distanceM: rng.int(800, 9000), offeredAt: at(Math.min(offerAt, milestones.acceptedAt.getTime())), expiresAt: at(offerAt + 180_000), respondedAt: milestones.acceptedAt, declineReason: null });
      }
    }
    if (source === "call") {
      const ring = lognormal(rng, 7, 0.6);
      rows.calls.push({ id: callId++, externalId: `hist-${id}`, callerNumber: `139${String(rng.int(0, 99_999_999)).padStart(8, "0")}`, ringingAt: at(reported - ring * 1000), answeredAt: at(reported), endedAt: at(reported + rng.int(60, 300) * 1000), elevatorId: elevator.id, incidentId: id, source: "pbx" });
    } else if (source === "alarm") {
      rows.alarms.push({ deviceId: elevator.deviceId, alarmId: `hist-${id}`, code: "trapped", rawCode: "trapped", severity: "critical", active: false, acknowledged: true, raisedAt: at(reported - 2000), receivedAt: at(reported), clearedAt: at(steps.at(-1)![1]), elevatorId: elevator.id, incidentId: id });
    }
    // Calls that open no incident: questions, repeat callers, hang-ups before anyone answers.
    while (rng.chance(0.4)) {
      const ringAt = reported + rng.int(-6, 6) * 3600_000;
      if (ringAt >= options.until.getTime()) break;
      const abandoned = rng.chance(0.12);
      const ring = lognormal(rng, 9, 0.7);
      rows.calls.push({ id: callId++, externalId: `hist-c${callId}`, callerNumber: `138${String(rng.int(0, 99_999_999)).padStart(8, "0")}`, ringingAt: at(ringAt), answeredAt: abandoned ? null : at(ringAt + ring * 1000), endedAt: at(ringAt + (abandoned ? ring : ring + rng.int(30, 240)) * 1000), elevatorId: null, incidentId: null, source: "pbx" });
    }
  }
  return rows;
}

const TYPES = {
  incidents: {
    id: "int", code: "text", kind: '"IncidentKind"', status: '"IncidentStatus"', source: '"IncidentSource"', elevatorId: "int", districtId: "int",
    reportedAt: "timestamp(3)", dispatchedAt: "timestamp(3)", acceptedAt: "timestamp(3)", enRouteAt: "timestamp(3)", onSceneAt: "timestamp(3)",
    releasedAt: "timestamp(3)", closedAt: "timestamp(3)", arrivalDeadlineAt: "timestamp(3)", trappedCount: "int", version: "int", updatedAt: "timestamp(3)",
  },
  incident_events: {
    incidentId: "int", type: "text", fromStatus: '"IncidentStatus"', toStatus: '"IncidentStatus"', actorType: '"ActorType"', actorId: "text", at: "timestamp(3)", reason: "text",
  },
  dispatch_offers: {
    incidentId: "int", teamId: "int", tier: "int", status: '"OfferStatus"', estimatedArrivalS: "int", distanceM: "int", offeredAt: "timestamp(3)",
    expiresAt: "timestamp(3)", respondedAt: "timestamp(3)", declineReason: "text",
  },
  calls: {
    id: "int", externalId: "text", callerNumber: "text", ringingAt: "timestamp(3)", answeredAt: "timestamp(3)", endedAt: "timestamp(3)", elevatorId: "int", incidentId: "int", source: "text",
  },
  alarms: {
    deviceId: "text", alarmId: "text", code: "text", rawCode: "text", severity: '"AlarmSeverity"', active: "boolean", acknowledged: "boolean", raisedAt: "timestamp(3)",
    receivedAt: "timestamp(3)", clearedAt: "timestamp(3)", elevatorId: "int", incidentId: "int",
  },
};

export async function readRoster(prisma: PrismaClient): Promise<Roster> {
  const elevators = (await prisma.$queryRaw`
    SELECT e.id, s."districtId", e."maintenanceCompanyId" AS "companyId", d.central, e."installDate", d."arrivalLimitMinutes", dv.id AS "deviceId"
    FROM elevators e JOIN sites s ON s.id = e."siteId" JOIN districts d ON d.id = s."districtId" LEFT JOIN devices dv ON dv."elevatorId" = e.id
    WHERE e."inService" ORDER BY e.id`) as Roster["elevators"];
  const teams = await prisma.team.findMany({ select: { id: true, maintenanceCompanyId: true, kind: true }, orderBy: { id: "asc" } });
  const companyTeams = new Map<number, number[]>();
  for (const t of teams) if (t.maintenanceCompanyId !== null) companyTeams.set(t.maintenanceCompanyId, [...(companyTeams.get(t.maintenanceCompanyId) ?? []), t.id]);
  return { elevators, companyTeams, stationTeams: teams.filter((t) => t.kind === "rescue_station").map((t) => t.id) };
}

/**
 * Writes the generated history in one transaction, once: a database that already holds incidents gets
 * none (the history is for a fresh demo city, never mixed into real records). Returns the incident count.
 */
export async function loadDemoHistory(prisma: PrismaClient, options: HistoryOptions & LoadOptions): Promise<number> {
  const roster = await readRoster(prisma);
  const written = await inTransaction(prisma, options, async (sql) => {
    await sql.rows(`SELECT pg_advisory_xact_lock(${LOCKS.seed})::text`);
    if ((await sql.rows(`SELECT 1 FROM incidents LIMIT 1`)).length) return 0;
    const call = (await sql.rows<{ call: number }>(`SELECT COALESCE(MAX(id), 0)::int + 1 AS call FROM calls`))[0]!.call;
    const rows = generateHistory(roster, options, { incident: 1, call });
    await insertColumns(sql, "incidents", TYPES.incidents, rows.incidents);
    await insertColumns(sql, "incident_events", TYPES.incident_events, rows.events);
    await insertColumns(sql, "dispatch_offers", TYPES.dispatch_offers, rows.offers);
    await insertColumns(sql, "calls", TYPES.calls, rows.calls);
    await insertColumns(sql, "alarms", TYPES.alarms, rows.alarms);
    for (const table of ["incidents", "calls"]) {
      await sql.exec(`SELECT setval(pg_get_serial_sequence('"${table}"', 'id'), COALESCE(MAX(id), 0) + 1, false) FROM "${table}"`);
    }
    return rows.incidents.length;
  });
  if (written) await prisma.$executeRawUnsafe("ANALYZE");
  return written;
}
