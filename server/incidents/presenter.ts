import type { CallView, IncidentView } from "../contracts/index.ts";
import type { Audience } from "../platform/realtime.ts";
import type { DbClient } from "../platform/db/types.ts";
import { errors } from "../platform/errors.ts";
import { createIncidentReads, type TimelineRow } from "./repository/reads.ts";

/** Who may receive pushes about this incident: the elevator's company and every team offered it. */
export function incidentAudience(view: IncidentView): Audience {
  return { companyId: view.elevator.maintenanceCompanyId, teamIds: [...new Set(view.offers.map((o) => o.teamId))] };
}

/**
 * One incident's view for callers that hold a database client rather than the read repository (the
 * dispatch routes, the call service and the push handlers); the query itself is the repository's.
 */
export function loadIncidentView(db: DbClient, id: number): Promise<IncidentView | null> {
  return createIncidentReads(db).view(id);
}

/** The incident's view, or the API's 404 when there is no such incident. */
export async function requireIncidentView(db: DbClient, id: number): Promise<IncidentView> {
  const view = await loadIncidentView(db, id);
  if (!view) throw errors.notFound(`incident ${id}`);
  return view;
}

export function presentCall(c: {
  id: number;
  externalId: string | null;
  source: string;
  callerNumber: string;
  line: string | null;
  agent: string | null;
  recordingRef: string | null;
  rescueCode: string | null;
  ringingAt: Date;
  answeredAt: Date | null;
  endedAt: Date | null;
  heldAt: Date | null;
  resumedAt: Date | null;
  elevatorId: number | null;
  incidentId: number | null;
  notes: string | null;
}): CallView {
  return {
    id: c.id,
    externalId: c.externalId,
    source: c.source === "manual" ? "manual" : "pbx",
    callerNumber: c.callerNumber,
    line: c.line,
    agent: c.agent,
    recordingRef: c.recordingRef,
    rescueCode: c.rescueCode,
    ringingAt: c.ringingAt.toISOString(),
    answeredAt: c.answeredAt?.toISOString() ?? null,
    endedAt: c.endedAt?.toISOString() ?? null,
    heldAt: c.heldAt?.toISOString() ?? null,
    resumedAt: c.resumedAt?.toISOString() ?? null,
    elevatorId: c.elevatorId,
    incidentId: c.incidentId,
    notes: c.notes,
  };
}

export function presentEvent(e: TimelineRow) {
  return {
    id: e.id.toString(),
    type: e.type,
    fromStatus: e.fromStatus,
    toStatus: e.toStatus,
    actorType: e.actorType,
    actorId: e.actorId,
    at: e.at.toISOString(),
    lat: e.lat,
    lng: e.lng,
    reason: e.reason,
    data: e.data ?? null,
  };
}
