import type { IncidentView } from "../contracts/index.ts";
import type { Audience } from "../platform/realtime.ts";
import type { DbClient } from "../platform/db/types.ts";
import { openStatuses } from "./lifecycle.ts";
import { errors } from "../platform/errors.ts";

const incidentInclude = {
  elevator: { include: { site: true } },
  district: true,
  offers: { include: { team: true }, orderBy: { offeredAt: "asc" } },
  alarms: { select: { code: true }, orderBy: { receivedAt: "asc" } },
  events: { select: { id: true }, orderBy: { id: "desc" }, take: 1 },
} as const;

type Loaded = NonNullable<Awaited<ReturnType<typeof loadOne>>>;

function loadOne(db: DbClient, id: number) {
  return db.incident.findUnique({ where: { id }, include: incidentInclude });
}

const iso = (date: Date | null) => (date ? date.toISOString() : null);

export function presentIncident(incident: Loaded): IncidentView {
  const { elevator, district } = incident;
  return {
    id: incident.id,
    code: incident.code,
    kind: incident.kind,
    status: incident.status,
    source: incident.source,
    reportedAt: incident.reportedAt.toISOString(),
    arrivalDeadlineAt: incident.arrivalDeadlineAt.toISOString(),
    dispatchedAt: iso(incident.dispatchedAt),
    onSceneAt: iso(incident.onSceneAt),
    releasedAt: iso(incident.releasedAt),
    closedAt: iso(incident.closedAt),
    deviceOffline: incident.deviceOffline,
    alarmCodes: [...new Set(incident.alarms.map((alarm) => alarm.code))],
    elevator: {
      id: elevator.id,
      rescueCode: elevator.rescueCode,
      unitNo: elevator.unitNo,
      siteName: elevator.site.name,
      address: elevator.site.address,
      lat: elevator.site.lat,
      lng: elevator.site.lng,
      maintenanceCompanyId: elevator.maintenanceCompanyId,
    },
    district: { id: district.id, name: district.name },
    acceptedAt: iso(incident.acceptedAt),
    enRouteAt: iso(incident.enRouteAt),
    trappedCount: incident.trappedCount,
    injuredCount: incident.injuredCount,
    causeClass: incident.causeClass,
    causeText: incident.causeText,
    massEventId: incident.massEventId,
    revision: Number(incident.events[0]?.id ?? 0),
    offers: incident.offers.map((offer) => ({
      id: offer.id,
      teamId: offer.teamId,
      teamName: offer.team.name,
      tier: offer.tier,
      status: offer.status,
      backup: offer.backup,
      estimatedArrivalS: offer.estimatedArrivalS,
      distanceM: offer.distanceM,
      offeredAt: offer.offeredAt.toISOString(),
      expiresAt: offer.expiresAt.toISOString(),
    })),
  };
}

/** Who may receive pushes about this incident: the elevator's company and every team offered it. */
export function incidentAudience(view: IncidentView): Audience {
  return { companyId: view.elevator.maintenanceCompanyId, teamIds: [...new Set(view.offers.map((o) => o.teamId))] };
}

export async function loadIncidentView(db: DbClient, id: number): Promise<IncidentView | null> {
  const incident = await loadOne(db, id);
  return incident ? presentIncident(incident) : null;
}

/** The incident's view, or the API's 404 when there is no such incident. */
export async function requireIncidentView(db: DbClient, id: number): Promise<IncidentView> {
  const view = await loadIncidentView(db, id);
  if (!view) throw errors.notFound(`incident ${id}`);
  return view;
}

export async function listIncidentViews(db: DbClient, filter: { open: boolean; limit: number }): Promise<IncidentView[]> {
  const rows = await db.incident.findMany({
    where: filter.open ? { status: { in: [...openStatuses] } } : {},
    include: incidentInclude,
    orderBy: { reportedAt: "desc" },
    take: filter.limit,
  });
  return rows.map(presentIncident);
}
