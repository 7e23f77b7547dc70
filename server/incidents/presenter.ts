import { Prisma } from "../platform/db/generated/client.ts";
import type { IncidentView } from "../contracts/index.ts";
import type { Audience } from "../platform/realtime.ts";
import type { DbClient } from "../platform/db/types.ts";
import { openStatuses } from "./lifecycle.ts";
import { errors } from "../platform/errors.ts";

/** A timestamp(3) column (UTC) as the ISO string Date.toISOString() gives, NULL staying NULL. */
const iso = (column: string) => Prisma.raw(`to_char(${column}, 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`);

interface ViewRow extends Omit<IncidentView, "elevator" | "district" | "revision"> {
  elevatorId: number;
  rescueCode: string;
  unitNo: string;
  siteName: string;
  address: string;
  lat: number;
  lng: number;
  maintenanceCompanyId: number;
  districtId: number;
  districtName: string;
  revision: bigint | number | null;
}

/**
 * Incident views in one query: the incident with its elevator, site and district joined, its offers (with
 * team names) and alarm codes aggregated as JSON, and its revision. The ORM's include took a round trip
 * per relation (eight per view), and a view is loaded after every change of every incident.
 */
async function queryIncidentViews(db: DbClient, where: Prisma.Sql, orderAndLimit: Prisma.Sql = Prisma.empty): Promise<IncidentView[]> {
  const rows = (await db.$queryRaw`
    SELECT i.id, i.code, i.kind::text AS kind, i.status::text AS status, i.source::text AS source,
           ${iso('i."reportedAt"')} AS "reportedAt", ${iso('i."arrivalDeadlineAt"')} AS "arrivalDeadlineAt",
           ${iso('i."dispatchedAt"')} AS "dispatchedAt", ${iso('i."acceptedAt"')} AS "acceptedAt",
           ${iso('i."enRouteAt"')} AS "enRouteAt", ${iso('i."onSceneAt"')} AS "onSceneAt",
           ${iso('i."releasedAt"')} AS "releasedAt", ${iso('i."closedAt"')} AS "closedAt",
           i."deviceOffline", i."trappedCount", i."injuredCount", i."causeClass", i."causeText", i."massEventId",
           e.id AS "elevatorId", e."rescueCode", e."unitNo", e."maintenanceCompanyId",
           s.name AS "siteName", s.address, s.lat, s.lng, d.id AS "districtId", d.name AS "districtName",
           (SELECT max(ev.id) FROM incident_events ev WHERE ev."incidentId" = i.id) AS revision,
           COALESCE((SELECT json_agg(a.code ORDER BY a."receivedAt", a.id) FROM alarms a WHERE a."incidentId" = i.id), '[]'::json) AS "alarmCodes",
           COALESCE((
             SELECT json_agg(json_build_object(
                      'id', o.id, 'teamId', o."teamId", 'teamName', t.name, 'tier', o.tier, 'status', o.status,
                      'backup', o.backup, 'estimatedArrivalS', o."estimatedArrivalS", 'distanceM', o."distanceM",
                      'offeredAt', ${iso('o."offeredAt"')}, 'expiresAt', ${iso('o."expiresAt"')})
                    ORDER BY o."offeredAt", o.id)
             FROM dispatch_offers o JOIN teams t ON t.id = o."teamId" WHERE o."incidentId" = i.id), '[]'::json) AS offers
    FROM incidents i
    JOIN elevators e ON e.id = i."elevatorId" JOIN sites s ON s.id = e."siteId" JOIN districts d ON d.id = i."districtId"
    WHERE ${where}
    ${orderAndLimit}`) as ViewRow[];
  return rows.map(presentIncident);
}

function presentIncident(row: ViewRow): IncidentView {
  return {
    id: row.id,
    code: row.code,
    kind: row.kind,
    status: row.status,
    source: row.source,
    reportedAt: row.reportedAt,
    arrivalDeadlineAt: row.arrivalDeadlineAt,
    dispatchedAt: row.dispatchedAt,
    onSceneAt: row.onSceneAt,
    releasedAt: row.releasedAt,
    closedAt: row.closedAt,
    deviceOffline: row.deviceOffline,
    alarmCodes: [...new Set(row.alarmCodes)],
    elevator: {
      id: row.elevatorId,
      rescueCode: row.rescueCode,
      unitNo: row.unitNo,
      siteName: row.siteName,
      address: row.address,
      lat: row.lat,
      lng: row.lng,
      maintenanceCompanyId: row.maintenanceCompanyId,
    },
    district: { id: row.districtId, name: row.districtName },
    acceptedAt: row.acceptedAt,
    enRouteAt: row.enRouteAt,
    trappedCount: row.trappedCount,
    injuredCount: row.injuredCount,
    causeClass: row.causeClass,
    causeText: row.causeText,
    massEventId: row.massEventId,
    revision: Number(row.revision ?? 0),
    offers: row.offers,
  };
}

/** Who may receive pushes about this incident: the elevator's company and every team offered it. */
export function incidentAudience(view: IncidentView): Audience {
  return { companyId: view.elevator.maintenanceCompanyId, teamIds: [...new Set(view.offers.map((o) => o.teamId))] };
}

export async function loadIncidentView(db: DbClient, id: number): Promise<IncidentView | null> {
  const [view] = await queryIncidentViews(db, Prisma.sql`i.id = ${id}::int`);
  return view ?? null;
}

/** The incident's view, or the API's 404 when there is no such incident. */
export async function requireIncidentView(db: DbClient, id: number): Promise<IncidentView> {
  const view = await loadIncidentView(db, id);
  if (!view) throw errors.notFound(`incident ${id}`);
  return view;
}

/** The views of the given incidents, in no particular order; ids without an incident are left out. */
export async function loadIncidentViews(db: DbClient, ids: readonly number[]): Promise<IncidentView[]> {
  if (ids.length === 0) return [];
  return queryIncidentViews(db, Prisma.sql`i.id = ANY(${[...ids]}::int[])`);
}

export async function listIncidentViews(db: DbClient, filter: { open: boolean; limit: number }): Promise<IncidentView[]> {
  return queryIncidentViews(
    db,
    filter.open ? Prisma.sql`i.status::text IN (${Prisma.join(openStatuses)})` : Prisma.sql`true`,
    Prisma.sql`ORDER BY i."reportedAt" DESC, i.id DESC LIMIT ${filter.limit}::int`,
  );
}
