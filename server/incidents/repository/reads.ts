import { Prisma } from "../../platform/db/generated/client.ts";
import type { IncidentView } from "../../contracts/index.ts";
import type { DbClient } from "../../platform/db/types.ts";
import type { ActorScope } from "../../auth/actor-scope.ts";
import { openStatuses } from "../lifecycle.ts";

/**
 * The incident capability's reads: the views the API and the pushes present, the scoped list, and the
 * timeline rows. Writes (the lifecycle commands and the outbox) live beside this file in writes.ts.
 */

/** Where a page of the newest-first list ends: the next page starts strictly after this incident. */
export interface IncidentCursor {
  reportedAt: string;
  id: number;
}

export interface IncidentListFilter {
  open: boolean;
  limit: number;
  after?: IncidentCursor | null;
}

export interface IncidentPage {
  items: IncidentView[];
  /** Present when more incidents follow this page. */
  next: IncidentCursor | null;
}

export interface TimelineRow {
  id: bigint;
  type: string;
  fromStatus: string | null;
  toStatus: string | null;
  actorType: string;
  actorId: string | null;
  at: Date;
  lat: number | null;
  lng: number | null;
  reason: string | null;
  data: unknown;
}

export interface IncidentReads {
  /** Newest first, scoped and paged inside the one query. */
  list(scope: ActorScope, filter: IncidentListFilter): Promise<IncidentPage>;
  view(id: number): Promise<IncidentView | null>;
  /** The views of the given incidents, in no particular order; ids without an incident are left out. */
  views(ids: readonly number[]): Promise<IncidentView[]>;
  /** A team's live offers (offered, or accepted), oldest first; null when there is no such team. */
  teamOffers(teamId: number): Promise<{ id: number; incidentId: number; respondedAt: Date | null; arrivedAt: Date | null }[] | null>;
  /** The incident's timeline oldest first, or null when there is no such incident. */
  timeline(id: number): Promise<TimelineRow[] | null>;
}

/**
 * The scope as a condition on `incidents i JOIN elevators e`: a company reads the incidents of the
 * elevators it maintains, a team those it was offered (whatever became of the offer, so a crew keeps
 * the history of jobs it declined or lost). The access repository (server/auth) checks single ids with
 * the same condition, so a list and a read by id never disagree.
 */
export function incidentInScope(scope: ActorScope): Prisma.Sql {
  switch (scope.kind) {
    case "centre":
      return Prisma.sql`true`;
    case "company":
      return Prisma.sql`e."maintenanceCompanyId" = ${scope.companyId}::int`;
    case "team":
      return Prisma.sql`EXISTS (SELECT 1 FROM dispatch_offers so WHERE so."incidentId" = i.id AND so."teamId" = ${scope.teamId}::int)`;
    case "nothing":
      return Prisma.sql`false`;
  }
}

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

/** Accepts the transaction client too, so a command can present what it just wrote. */
export function createIncidentReads(db: DbClient): IncidentReads {
  return {
    async list(scope, filter) {
      const conditions = [incidentInScope(scope)];
      if (filter.open) conditions.push(Prisma.sql`i.status::text IN (${Prisma.join(openStatuses)})`);
      // Keyset paging on the sort key itself: unlike OFFSET, a page stays correct while new incidents
      // arrive at the head of the list, and it costs the same on page 1 and page 100.
      if (filter.after) {
        conditions.push(Prisma.sql`(i."reportedAt", i.id) < (${filter.after.reportedAt}::timestamp(3), ${filter.after.id}::int)`);
      }
      // One row more than asked tells whether another page follows without a count(*).
      const rows = await queryIncidentViews(
        db,
        Prisma.join(conditions, " AND "),
        Prisma.sql`ORDER BY i."reportedAt" DESC, i.id DESC LIMIT ${filter.limit + 1}::int`,
      );
      const items = rows.slice(0, filter.limit);
      const last = items[items.length - 1];
      return { items, next: rows.length > filter.limit && last ? { reportedAt: last.reportedAt, id: last.id } : null };
    },

    async views(ids) {
      if (ids.length === 0) return [];
      return queryIncidentViews(db, Prisma.sql`i.id IN (${Prisma.join([...ids])})`);
    },
    async teamOffers(teamId) {
      const team = (await db.$queryRaw`SELECT id FROM teams WHERE id = ${teamId}::int`) as unknown[];
      if (!team.length) return null;
      return (await db.$queryRaw`
        SELECT id, "incidentId", "respondedAt", "arrivedAt" FROM dispatch_offers
        WHERE "teamId" = ${teamId}::int AND status IN ('offered', 'accepted')
        ORDER BY "offeredAt", id`) as { id: number; incidentId: number; respondedAt: Date | null; arrivedAt: Date | null }[];
    },
    async view(id) {
      const [view] = await queryIncidentViews(db, Prisma.sql`i.id = ${id}::int`);
      return view ?? null;
    },

    async timeline(id) {
      const [exists, rows] = await Promise.all([
        db.incident.count({ where: { id } }),
        db.incidentEvent.findMany({ where: { incidentId: id }, orderBy: [{ at: "asc" }, { id: "asc" }] }),
      ]);
      return exists ? rows : null;
    },
  };
}
