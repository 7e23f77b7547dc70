import type { IncidentView } from "../contracts/index.ts";
import type { Audience } from "../platform/realtime.ts";
import type { DbClient } from "../platform/db/types.ts";
import { errors } from "../platform/errors.ts";
import { createIncidentReads } from "./repository/reads.ts";

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
