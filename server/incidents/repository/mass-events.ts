import { Prisma, type PrismaClient } from "../../platform/db/generated/client.ts";
import type { DbClient } from "../../platform/db/types.ts";
import { LOCKS } from "../../platform/db/locks.ts";
import { openStatuses } from "../lifecycle.ts";
import { appendEventToMany } from "./writes.ts";

/** An open incident of the district as grouping sees it. */
export interface RecentIncident {
  id: number;
  massEventId: number | null;
  reportedAt: Date;
  siteId: number;
  siteName: string;
}

/** A mass event to be made. */
export interface NewMassEvent {
  kind: "building" | "area";
  title: string;
  districtId: number;
  siteId?: number;
  startedAt: Date;
}

/** What mass-event grouping reads and writes; `tx` is the unit of work's transaction. */
export interface MassEventStore {
  districtsOf(incidentIds: readonly number[]): Promise<number[]>;
  /** One grouping pass per district at a time, across processes. */
  lockDistrict(tx: DbClient, districtId: number): Promise<void>;
  /** The district's open incidents reported within `windowMs` of its newest open one, oldest first. */
  recentOpen(tx: DbClient, districtId: number, windowMs: number): Promise<RecentIncident[]>;
  /** Open building events by site, the open area event, and the district's name (for a new event's title). */
  openMassEvents(tx: DbClient, districtId: number, siteIds: readonly number[]): Promise<{ building: Map<number, number>; area: number | null; districtName: string }>;
  create(tx: DbClient, event: NewMassEvent): Promise<number>;
  /** Members join: the link, and an entry on each member's timeline (its new revision tells consoles). */
  join(tx: DbClient, incidentIds: readonly number[], massEventId: number, at: Date): Promise<void>;
}

export function createMassEventStore(prisma: PrismaClient): MassEventStore {
  return {
    async districtsOf(incidentIds) {
      if (!incidentIds.length) return [];
      const rows = (await prisma.$queryRaw`
        SELECT DISTINCT "districtId" FROM incidents WHERE id IN (${Prisma.join([...incidentIds])})`) as { districtId: number }[];
      return rows.map((r) => r.districtId);
    },
    async lockDistrict(tx, districtId) {
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(${LOCKS.massEventDistrict}::int, ${districtId}::int)`;
    },
    async recentOpen(tx, districtId, windowMs) {
      // One query rather than the ORM's three (incidents, elevators, sites); the window hangs off the newest.
      return (await tx.$queryRaw`
        WITH open AS (
          SELECT i.id, i."massEventId", i."reportedAt", i."elevatorId" FROM incidents i
          WHERE i."districtId" = ${districtId}::int AND i.status::text IN (${Prisma.join(openStatuses)}))
        SELECT o.id, o."massEventId", o."reportedAt", e."siteId", s.name AS "siteName"
        FROM open o JOIN elevators e ON e.id = o."elevatorId" JOIN sites s ON s.id = e."siteId"
        WHERE o."reportedAt" >= (SELECT max("reportedAt") FROM open) - make_interval(secs => ${windowMs / 1000}::float8)
        ORDER BY o."reportedAt", o.id`) as RecentIncident[];
    },
    async openMassEvents(tx, districtId, siteIds) {
      const events = await tx.massEvent.findMany({
        where: { closedAt: null, OR: [{ kind: "area", districtId }, { kind: "building", siteId: { in: [...siteIds] } }] },
        select: { id: true, kind: true, siteId: true },
        orderBy: { id: "asc" },
      });
      const district = await tx.district.findUniqueOrThrow({ where: { id: districtId }, select: { name: true } });
      const building = new Map<number, number>();
      for (const e of events) if (e.kind === "building" && e.siteId !== null && !building.has(e.siteId)) building.set(e.siteId, e.id);
      return { building, area: events.find((e) => e.kind === "area")?.id ?? null, districtName: district.name };
    },
    async create(tx, event) {
      return (await tx.massEvent.create({ data: event, select: { id: true } })).id;
    },
    async join(tx, incidentIds, massEventId, at) {
      await tx.incident.updateMany({ where: { id: { in: [...incidentIds] } }, data: { massEventId } });
      await appendEventToMany(tx, incidentIds, { type: "mass_event_joined", actor: { type: "system", id: "mass-events" }, at, data: { massEventId } });
    },
  };
}
