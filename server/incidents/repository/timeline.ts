import type { PrismaClient } from "../../platform/db/generated/client.ts";
import type { MassEventView, TimelineView } from "../../contracts/index.ts";
import { computeIntervals } from "../intervals.ts";
import { isOpen } from "../lifecycle.ts";
import { presentCall, presentEvent } from "../presenter.ts";

// Reads of the timeline with its intervals and of mass events (centre-only routes: no scope to apply).

/** Events and the intervals of docs/domain.md, computed by the one shared function from the same events. */
export async function loadTimeline(prisma: PrismaClient, incidentId: number): Promise<TimelineView | null> {
  const incident = await prisma.incident.findUnique({
    where: { id: incidentId },
    select: { id: true, status: true, reportedAt: true, calls: { orderBy: { ringingAt: "asc" } } },
  });
  if (!incident) return null;
  const events = await prisma.incidentEvent.findMany({ where: { incidentId }, orderBy: [{ at: "asc" }, { id: "asc" }] });
  return {
    incidentId: incident.id,
    status: incident.status,
    reportedAt: incident.reportedAt.toISOString(),
    events: events.map(presentEvent),
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
