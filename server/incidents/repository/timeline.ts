import { Prisma, type PrismaClient } from "../../platform/db/generated/client.ts";
import type { IncidentStatus } from "../lifecycle.ts";
import type { MassEventView, TimelineView } from "../../contracts/index.ts";
import { computeIntervals } from "../intervals.ts";
import { isOpen } from "../lifecycle.ts";
import { presentCall, presentEvent } from "../presenter.ts";

// Reads of the timeline with its intervals and of mass events (centre-only routes: no scope to apply).

/** Events and the intervals of docs/design.md, computed by the one shared function from the same events. */
export async function loadTimeline(prisma: PrismaClient, incidentId: number): Promise<TimelineView | null> {
  const incident = await prisma.incident.findUnique({
    where: { id: incidentId },
    select: { id: true, status: true, reportedAt: true, calls: { orderBy: { ringingAt: "asc" } } },
  });
  if (!incident) return null;
  const events = await prisma.incidentEvent.findMany({ where: { incidentId }, orderBy: [{ at: "asc" }, { id: "asc" }] });
  const names = (await prisma.$queryRaw`
    SELECT ev.id, ${ACTOR_NAME_COLUMN} FROM incident_events ev ${ACTOR_NAME}
    WHERE ev."incidentId" = ${incidentId}::int`) as { id: bigint; actorName: string | null }[];
  const nameOf = new Map(names.map((n) => [n.id, n.actorName]));
  return {
    incidentId: incident.id,
    status: incident.status,
    reportedAt: incident.reportedAt.toISOString(),
    events: events.map((e) => ({ ...presentEvent(e), actorName: nameOf.get(e.id) ?? null })),
    intervals: computeIntervals(incident.reportedAt, events.map((e) => ({ at: e.at, toStatus: e.toStatus, type: e.type }))),
    calls: incident.calls.map(presentCall),
  };
}

export async function loadMassEvent(prisma: PrismaClient, id: number): Promise<MassEventView | null> {
  const [view] = await listMassEvents(prisma, { id, open: false, limit: 1 });
  return view ?? null;
}

export async function listMassEvents(
  prisma: PrismaClient,
  filter: { open: boolean; limit: number; id?: number },
): Promise<MassEventView[]> {
  const rows = await prisma.massEvent.findMany({
    where: { ...(filter.id !== undefined ? { id: filter.id } : {}), ...(filter.open ? { closedAt: null } : {}) },
    include: { incidents: { select: { id: true, status: true }, orderBy: { id: "asc" } } },
    orderBy: { startedAt: "desc" },
    take: filter.limit,
  });
  return rows.map((m) => {
    const statusCounts: Record<string, number> = {};
    for (const i of m.incidents) statusCounts[i.status] = (statusCounts[i.status] ?? 0) + 1;
    return {
      id: m.id,
      kind: m.kind,
      title: m.title,
      districtId: m.districtId,
      siteId: m.siteId,
      startedAt: m.startedAt.toISOString(),
      closedAt: m.closedAt?.toISOString() ?? null,
      incidentIds: m.incidents.map((i) => i.id),
      openIncidents: m.incidents.filter((i) => isOpen(i.status)).length,
      statusCounts,
    };
  });
}

/** A timeline entry with its audience (the incident's own push audience). */
export type TimelineSince = Parameters<typeof presentEvent>[0] & {
  toStatus: IncidentStatus | null;
  companyId: number;
  teamIds: number[];
  actorName: string | null;
};

/**
 * Who an entry's actor is, for people: a dispatcher's display name, a team's name (a rescuer signed in as
 * their team: team · person). Devices and system parts are named by the client from their id.
 */
const ACTOR_NAME = Prisma.sql`
  LEFT JOIN users u ON ev."actorType" IN ('user', 'team') AND u.username = ev."actorId"
  LEFT JOIN teams ut ON ut.id = u."teamId"
  LEFT JOIN teams t ON ev."actorType" = 'team' AND t.id::text = ev."actorId"`;
const ACTOR_NAME_COLUMN = Prisma.sql`COALESCE(t.name, CASE WHEN ut.name IS NOT NULL THEN ut.name || ' · ' || u."displayName" ELSE u."displayName" END) AS "actorName"`;

/**
 * Timeline entries after `after` and their audience (the elevator's company and every team offered the
 * incident) in one query: the pushes run this after every change of every incident.
 */
export async function timelineSince(prisma: PrismaClient, incidentId: number, after: bigint): Promise<TimelineSince[]> {
  return (await prisma.$queryRaw`
    WITH scope AS (
      SELECT e."maintenanceCompanyId" AS "companyId",
             COALESCE((SELECT json_agg(DISTINCT o."teamId") FROM dispatch_offers o WHERE o."incidentId" = i.id), '[]'::json) AS "teamIds"
      FROM incidents i JOIN elevators e ON e.id = i."elevatorId"
      WHERE i.id = ${incidentId}::int)
    SELECT ev.id, ev.type, ev."fromStatus"::text AS "fromStatus", ev."toStatus"::text AS "toStatus", ev."actorType"::text AS "actorType",
           ev."actorId", ev.at, ev.lat, ev.lng, ev.reason, ev.data, scope."companyId", scope."teamIds", ${ACTOR_NAME_COLUMN}
    FROM incident_events ev CROSS JOIN scope ${ACTOR_NAME}
    WHERE ev."incidentId" = ${incidentId}::int AND ev.id > ${after}::bigint
    ORDER BY ev.id
    LIMIT 200`) as TimelineSince[];
}
