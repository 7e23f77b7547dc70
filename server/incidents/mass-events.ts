import { Prisma, type PrismaClient } from "../platform/db/generated/client.ts";
import type { DomainEvents } from "../platform/events.ts";
import { openStatuses } from "./lifecycle.ts";
import { appendEventToMany, incidentPolicy } from "./service.ts";

/**
 * Power cuts trap people in many cars at once: several incidents of one site, or many of one district,
 * within minutes are grouped under one mass event so dispatchers see and handle them together.
 *
 * Grouping runs after the incident's commit, once per district at a time, and a burst of openings in one
 * district is folded into the next pass. Doing it inside the alarm transaction instead serialised every
 * new incident of a district behind one lock, and a power cut's hundreds of alarms then overran the
 * transaction timeout (measured: alarms failed to store).
 */
export function startMassEventGrouping(events: DomainEvents, prisma: PrismaClient, onError: (error: unknown) => void): void {
  const running = new Map<number, Promise<void>>();
  const again = new Set<number>();

  const pass = async (districtId: number): Promise<void> => {
    const policy = incidentPolicy();
    const changed = await prisma.$transaction(async (tx) => {
      // Across processes: one grouping pass per district at a time.
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(96335, ${districtId})`;
      const newest = await tx.incident.findFirst({
        where: { districtId, status: { in: [...openStatuses] } },
        orderBy: { reportedAt: "desc" },
        select: { reportedAt: true },
      });
      if (!newest) return { massEvents: [], joined: [] };
      const since = new Date(newest.reportedAt.getTime() - policy.massWindowMs);
      // One query rather than the ORM's three (incidents, elevators, sites).
      const recent = (await tx.$queryRaw`
        SELECT i.id, i."massEventId", i."reportedAt", e."siteId", s.name AS "siteName"
        FROM incidents i JOIN elevators e ON e.id = i."elevatorId" JOIN sites s ON s.id = e."siteId"
        WHERE i."districtId" = ${districtId}::int AND i.status::text IN (${Prisma.join(openStatuses)}) AND i."reportedAt" >= ${since}::timestamp(3)
        ORDER BY i."reportedAt", i.id`) as { id: number; massEventId: number | null; reportedAt: Date; siteId: number; siteName: string }[];
      const touched = new Set<number>();
      const joined: number[] = [];
      // The join is part of each member's history, and its new revision tells consoles to take the update.
      const join = async (ids: number[], massEventId: number) => {
        await tx.incident.updateMany({ where: { id: { in: ids } }, data: { massEventId } });
        await appendEventToMany(tx, ids, { type: "mass_event_joined", actor: { type: "system", id: "mass-events" }, at: new Date(), data: { massEventId } });
        joined.push(...ids);
        touched.add(massEventId);
      };
      const bySite = new Map<number, typeof recent>();
      for (const i of recent) bySite.set(i.siteId, [...(bySite.get(i.siteId) ?? []), i]);
      for (const [siteId, members] of bySite) {
        if (members.length < policy.massSiteMin) continue;
        const ungrouped = members.filter((m) => m.massEventId === null);
        if (!ungrouped.length) continue;
        const existing =
          members.find((m) => m.massEventId !== null)?.massEventId ??
          (await tx.massEvent.findFirst({ where: { kind: "building", siteId, closedAt: null }, select: { id: true } }))?.id;
        const id =
          existing ??
          (
            await tx.massEvent.create({
              data: { kind: "building", title: `${members[0]!.siteName} 多台电梯同时困人`, siteId, districtId, startedAt: members[0]!.reportedAt },
            })
          ).id;
        await join(
          ungrouped.map((m) => m.id),
          id,
        );
        for (const m of ungrouped) m.massEventId = id;
      }
      if (recent.length >= policy.massDistrictMin) {
        // Incidents already in a building event stay there; the rest of the district joins the area event.
        const ungrouped = recent.filter((m) => m.massEventId === null);
        if (ungrouped.length) {
          const area = await tx.massEvent.findFirst({ where: { kind: "area", districtId, closedAt: null }, select: { id: true } });
          const district = await tx.district.findUniqueOrThrow({ where: { id: districtId }, select: { name: true } });
          const id =
            area?.id ??
            (await tx.massEvent.create({ data: { kind: "area", title: `${district.name} 区域群发困人`, districtId, startedAt: recent[0]!.reportedAt } })).id;
          await join(
            ungrouped.map((m) => m.id),
            id,
          );
        }
      }
      return { massEvents: [...touched], joined };
    });
    for (const massEventId of changed.massEvents) events.emit("mass_event.changed", { massEventId });
    for (const incidentId of changed.joined) events.emit("incident.changed", { incidentId });
  };

  const schedule = (districtId: number) => {
    if (running.has(districtId)) {
      again.add(districtId);
      return;
    }
    const run = (async () => {
      do {
        again.delete(districtId);
        await pass(districtId).catch(onError);
      } while (again.has(districtId));
    })().finally(() => running.delete(districtId));
    running.set(districtId, run);
  };

  // A power cut opens hundreds of incidents within seconds: let the burst land, then read the districts
  // of all its incidents in one query and group each district in one pass, instead of competing with the
  // alarm writers for connections on every opening.
  const opened = new Set<number>();
  let burst: NodeJS.Timeout | null = null;
  const groupBurst = async () => {
    burst = null;
    const incidentIds = [...opened];
    opened.clear();
    const districts = await prisma.incident.findMany({
      where: { id: { in: incidentIds } },
      select: { districtId: true },
      distinct: ["districtId"],
    });
    for (const { districtId } of districts) schedule(districtId);
  };
  events.on("incident.opened", ({ incidentId }) => {
    opened.add(incidentId);
    burst ??= setTimeout(() => void groupBurst().catch(onError), 300);
  });
}
