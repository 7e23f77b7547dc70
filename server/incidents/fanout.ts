import type { PrismaClient } from "../platform/db/generated/client.ts";
import type { DomainEvents } from "../platform/events.ts";
import type { Broadcast } from "../platform/realtime.ts";
import { loadMassEvent, presentEvent } from "./commands.ts";
import { isOpen } from "./lifecycle.ts";

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
      const after = lastSent.get(incidentId);
      const rows = await prisma.incidentEvent.findMany({
        where: { incidentId, ...(after !== undefined ? { id: { gt: after } } : {}) },
        orderBy: { id: "asc" },
        take: 200,
      });
      if (!rows.length) return;
      // The same audience as the incident's own pushes: its elevator's company and every team offered it.
      // One query rather than the ORM's three (incident, elevator, offers): this runs after every change.
      const [scope] = (await prisma.$queryRaw`
        SELECT e."maintenanceCompanyId" AS "companyId",
               COALESCE((SELECT json_agg(DISTINCT o."teamId") FROM dispatch_offers o WHERE o."incidentId" = i.id), '[]'::json) AS "teamIds"
        FROM incidents i JOIN elevators e ON e.id = i."elevatorId"
        WHERE i.id = ${incidentId}::int`) as { companyId: number; teamIds: number[] }[];
      const audience = { companyId: scope?.companyId ?? null, teamIds: scope?.teamIds ?? [] };
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
