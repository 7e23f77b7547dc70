import type { IncidentView, OfferView } from "../../server/contracts/index.ts";

/** A valid IncidentView for client-side unit tests; `patch` sets what the test is about. */
export function incidentView(id: number, patch: Partial<IncidentView> = {}): IncidentView {
  return {
    id,
    code: `TJ20261127-${String(id).padStart(6, "0")}`,
    kind: "entrapment",
    status: "reported",
    source: "alarm",
    reportedAt: new Date(Date.parse("2026-11-27T08:00:00Z") + id * 60_000).toISOString(),
    arrivalDeadlineAt: new Date(Date.parse("2026-11-27T08:30:00Z") + id * 60_000).toISOString(),
    dispatchedAt: null,
    onSceneAt: null,
    releasedAt: null,
    closedAt: null,
    deviceOffline: false,
    alarmCodes: [],
    elevator: { id, rescueCode: String(100000 + id), unitNo: "1号梯", siteName: "小区", address: "和平区", lat: 39.1, lng: 117.2, maintenanceCompanyId: 1 },
    district: { id: 1, name: "和平区" },
    offers: [],
    acceptedAt: null,
    enRouteAt: null,
    trappedCount: null,
    injuredCount: null,
    causeClass: null,
    causeText: null,
    massEventId: null,
    revision: 1,
    ...patch,
  };
}

export function offerView(id: number, status: OfferView["status"] = "offered", patch: Partial<OfferView> = {}): OfferView {
  return {
    id,
    teamId: 100 + id,
    teamName: `队伍${id}`,
    tier: 1,
    status,
    backup: false,
    estimatedArrivalS: 600,
    distanceM: 3000,
    offeredAt: `2026-11-27T08:0${id % 10}:00.000Z`,
    expiresAt: "2026-11-27T09:00:00.000Z",
    ...patch,
  };
}
