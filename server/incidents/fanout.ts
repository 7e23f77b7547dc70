import type { PrismaClient } from "../platform/db/generated/client.ts";
import type { DomainEvents } from "../platform/events.ts";
import type { Broadcast } from "../platform/realtime.ts";
import { loadMassEvent, presentEvent } from "./commands.ts";
import { isOpen, type IncidentStatus } from "./lifecycle.ts";

/**
 * Pushes each new timeline entry and mass-event change to the consoles. The timeline is read back after
 * the commit instead of being passed along, so entries appended by any writer (alarms, dispatch, calls,
 * lifecycle routes) are sent, once each, in order.
 */
export function startIncidentFanout(events: DomainEvents, prisma: PrismaClient, broadcast: Broadcast): void {
  // Last entry sent per incident; forgotten when the incident ends, so the map stays as small as the open set.
  const lastSent = new Map<number, bigint>();
  const queue = new Map<number, Promise<void>>();

  const sendTimeline = (incidentId: number) => {
    const previous = queue.get(incidentId) ?? Promise.resolve();
    const next = previous.then(async () => {
      const after = lastSent.get(incidentId) ?? 0n;
      // New entries and their audience (the same as the incident's own pushes: its elevator's company and
      // every team offered it) in one query: this runs after every change of every incident.
      const rows = (await prisma.$queryRaw`
        WITH scope AS (
          SELECT e."maintenanceCompanyId" AS "companyId",
                 COALESCE((SELECT json_agg(DISTINCT o."teamId") FROM dispatch_offers o WHERE o."incidentId" = i.id), '[]'::json) AS "teamIds"
          FROM incidents i JOIN elevators e ON e.id = i."elevatorId"
          WHERE i.id = ${incidentId}::int)
        SELECT ev.id, ev.type, ev."fromStatus"::text AS "fromStatus", ev."toStatus"::text AS "toStatus", ev."actorType"::text AS "actorType",
               ev."actorId", ev.at, ev.lat, ev.lng, ev.reason, ev.data, scope."companyId", scope."teamIds"
        FROM incident_events ev CROSS JOIN scope
        WHERE ev."incidentId" = ${incidentId}::int AND ev.id > ${after}::bigint
        ORDER BY ev.id
        LIMIT 200`) as (Parameters<typeof presentEvent>[0] & { toStatus: IncidentStatus | null; companyId: number; teamIds: number[] })[];
      if (!rows.length) return;
      const audience = { companyId: rows[0]!.companyId, teamIds: rows[0]!.teamIds };
      for (const row of rows) broadcast(audience, "incident:timeline", { incidentId, ...presentEvent(row) });
      const last = rows.at(-1)!;
      // Forget an incident once it has ended (its last entry moved it to a terminal status); the cap
      // only matters if terminal entries are never seen, e.g. incidents closed by another process.
      if (last.toStatus && !isOpen(last.toStatus)) lastSent.delete(incidentId);
      else lastSent.set(incidentId, last.id);
      if (lastSent.size > 20_000) lastSent.delete(lastSent.keys().next().value!);
    });
    const settled = next.catch(() => {});
    queue.set(incidentId, settled);
    void settled.then(() => {
      if (queue.get(incidentId) === settled) queue.delete(incidentId);
    });
    return next;
  };

  events.on("incident.opened", ({ incidentId }) => sendTimeline(incidentId));
  events.on("incident.changed", ({ incidentId }) => sendTimeline(incidentId));
  events.on("mass_event.changed", async ({ massEventId }) => {
    const view = await loadMassEvent(prisma, massEventId);
    if (view) broadcast("centre", "mass-event:updated", view);
  });
}
