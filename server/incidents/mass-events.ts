import { LOCKS } from "../platform/db/locks.ts";
import { Prisma, type PrismaClient } from "../platform/db/generated/client.ts";
import type { UnitOfWork } from "../platform/outbox/unit-of-work.ts";
import { openStatuses } from "./lifecycle.ts";
import { appendEventToMany, type IncidentPolicy } from "./repository/writes.ts";

/**
 * Power cuts trap people in many cars at once: several incidents of one site, or many of one district,
 * within minutes are grouped under one mass event so dispatchers see and handle them together.
 *
 * Grouping is a follow-up of the incident's opening (an outbox row, so it survives a crash): it runs
 * after the commit, once per district at a time, and a burst of openings in one district is folded into
 * the next pass; the follow-up is done when the pass that included its incident has committed. Doing it inside the alarm transaction instead serialised every
 * new incident of a district behind one lock, and a power cut's hundreds of alarms then overran the
 * transaction timeout (measured: alarms failed to store).
 */
export class MassEventGrouping {
  private readonly running = new Map<number, Promise<void>>();
  private readonly again = new Set<number>();
  /** Incidents of the current burst, with the follow-ups waiting for the pass that groups them. */
  private opened: { incidentId: number; done: () => void; failed: (error: unknown) => void }[] = [];
  private burst: NodeJS.Timeout | null = null;

  constructor(
    private readonly prisma: PrismaClient,
    private readonly uow: UnitOfWork,
    private readonly policy: Pick<IncidentPolicy, "massWindowMs" | "massSiteMin" | "massDistrictMin">,
  ) {}

  /**
   * The follow-up of an opened incident: resolves once a grouping pass of its district committed after
   * it (rejects if that pass failed, so the outbox retries). A power cut opens hundreds of incidents
   * within seconds: the burst lands first, then the districts of all its incidents are read in one query
   * and each district is grouped in one pass, instead of competing with the alarm writers for connections.
   */
  incidentOpened(incidentId: number): Promise<void> {
    return new Promise<void>((done, failed) => {
      this.opened.push({ incidentId, done, failed });
      this.burst ??= setTimeout(() => void this.groupBurst(), 300);
    });
  }

  private async groupBurst(): Promise<void> {
    this.burst = null;
    const waiting = this.opened;
    this.opened = [];
    try {
      const rows = (await this.prisma.$queryRaw`
        SELECT DISTINCT "districtId" FROM incidents WHERE id IN (${Prisma.join(waiting.map((w) => w.incidentId))})`) as { districtId: number }[];
      await Promise.all(rows.map(({ districtId }) => this.schedule(districtId)));
      for (const w of waiting) w.done();
    } catch (error) {
      for (const w of waiting) w.failed(error);
    }
  }

  /** One pass per district at a time; openings meanwhile are folded into one more pass. */
  private schedule(districtId: number): Promise<void> {
    const current = this.running.get(districtId);
    if (current) {
      this.again.add(districtId);
      return current;
    }
    const run = (async () => {
      do {
        this.again.delete(districtId);
        await this.pass(districtId);
      } while (this.again.has(districtId));
    })().finally(() => this.running.delete(districtId));
    this.running.set(districtId, run);
    return run;
  }

  private async pass(districtId: number): Promise<void> {
    const policy = this.policy;
    await this.uow.run(async ({ db: tx, emit }) => {
      // Across processes: one grouping pass per district at a time.
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(${LOCKS.massEventDistrict}::int, ${districtId}::int)`;
      const newest = await tx.incident.findFirst({
        where: { districtId, status: { in: [...openStatuses] } },
        orderBy: { reportedAt: "desc" },
        select: { reportedAt: true },
      });
      if (!newest) return;
      const since = new Date(newest.reportedAt.getTime() - policy.massWindowMs);
      // One query rather than the ORM's three (incidents, elevators, sites).
      const recent = (await tx.$queryRaw`
        SELECT i.id, i."massEventId", i."reportedAt", e."siteId", s.name AS "siteName"
        FROM incidents i JOIN elevators e ON e.id = i."elevatorId" JOIN sites s ON s.id = e."siteId"
        WHERE i."districtId" = ${districtId}::int AND i.status::text IN (${Prisma.join(openStatuses)}) AND i."reportedAt" >= ${since}::timestamp(3)
        ORDER BY i."reportedAt", i.id`) as { id: number; massEventId: number | null; reportedAt: Date; siteId: number; siteName: string }[];
      // The join is part of each member's history, and its new revision tells consoles to take the update.
      const join = async (ids: number[], massEventId: number) => {
        await tx.incident.updateMany({ where: { id: { in: ids } }, data: { massEventId } });
        await appendEventToMany(tx, ids, { type: "mass_event_joined", actor: { type: "system", id: "mass-events" }, at: new Date(), data: { massEventId } });
        for (const incidentId of ids) emit("incident.changed", { incidentId });
        emit("mass_event.changed", { massEventId });
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
    });
  }
}
