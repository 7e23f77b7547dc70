import type { Transactional } from "../platform/outbox/unit-of-work.ts";
import type { IncidentPolicy } from "./repository/writes.ts";
import type { MassEventStore, NewMassEvent, RecentIncident } from "./repository/mass-events.ts";

/**
 * Power cuts trap people in many cars at once: several incidents of one site, or many of one district,
 * within minutes are grouped under one mass event so dispatchers see and handle them together.
 *
 * Grouping is a follow-up of the incident's opening (an outbox row, so it survives a crash): it runs
 * after the commit, once per district at a time, and a burst of openings in one district is folded into
 * the next pass; the follow-up is done when the pass that included its incident has committed. Doing it
 * inside the alarm transaction instead serialised every new incident of a district behind one lock, and a
 * power cut's hundreds of alarms then overran the transaction timeout (measured: alarms failed to store).
 */

/** Members to join to an event that exists (`massEventId`) or is to be made (`create`). */
export interface MassEventJoin {
  incidentIds: number[];
  massEventId: number | null;
  create: NewMassEvent | null;
}

/**
 * Which of a district's recent open incidents join which mass event, pure. A site with `massSiteMin`
 * incidents forms a building event (or joins the one its grouped members or an open building event of
 * the site already have); if the district has `massDistrictMin`, those in no building event join the
 * district's area event. An incident already in an event stays there.
 */
export function planMassEvents(
  districtId: number,
  recent: readonly RecentIncident[],
  open: { building: ReadonlyMap<number, number>; area: number | null; districtName: string },
  policy: Pick<IncidentPolicy, "massSiteMin" | "massDistrictMin">,
): MassEventJoin[] {
  const grouped = new Map(recent.map((i) => [i.id, i.massEventId]));
  const joins: MassEventJoin[] = [];
  const bySite = new Map<number, RecentIncident[]>();
  for (const i of recent) bySite.set(i.siteId, [...(bySite.get(i.siteId) ?? []), i]);
  for (const [siteId, members] of bySite) {
    if (members.length < policy.massSiteMin) continue;
    const ungrouped = members.filter((m) => grouped.get(m.id) === null);
    if (!ungrouped.length) continue;
    const existing = members.find((m) => m.massEventId !== null)?.massEventId ?? open.building.get(siteId) ?? null;
    joins.push({
      incidentIds: ungrouped.map((m) => m.id),
      massEventId: existing,
      create:
        existing === null
          ? { kind: "building", title: `${members[0]!.siteName} 多台电梯同时困人`, siteId, districtId, startedAt: members[0]!.reportedAt }
          : null,
    });
    for (const m of ungrouped) grouped.set(m.id, existing ?? -1);
  }
  if (recent.length >= policy.massDistrictMin) {
    const ungrouped = recent.filter((m) => grouped.get(m.id) === null);
    if (ungrouped.length) {
      joins.push({
        incidentIds: ungrouped.map((m) => m.id),
        massEventId: open.area,
        create: open.area === null ? { kind: "area", title: `${open.districtName} 区域群发困人`, districtId, startedAt: recent[0]!.reportedAt } : null,
      });
    }
  }
  return joins;
}

export class MassEventGrouping {
  private readonly running = new Map<number, Promise<void>>();
  private readonly again = new Set<number>();
  /** Incidents of the current burst, with the follow-ups waiting for the pass that groups them. */
  private opened: { incidentId: number; done: () => void; failed: (error: unknown) => void }[] = [];
  private burst: NodeJS.Timeout | null = null;

  constructor(
    private readonly store: MassEventStore,
    private readonly uow: Transactional,
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
      const districts = await this.store.districtsOf(waiting.map((w) => w.incidentId));
      await Promise.all(districts.map((districtId) => this.schedule(districtId)));
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
    await this.uow.run(async ({ db, emit }) => {
      await this.store.lockDistrict(db, districtId);
      const recent = await this.store.recentOpen(db, districtId, this.policy.massWindowMs);
      if (!recent.length) return;
      const open = await this.store.openMassEvents(db, districtId, [...new Set(recent.map((i) => i.siteId))]);
      for (const join of planMassEvents(districtId, recent, open, this.policy)) {
        const massEventId = join.massEventId ?? (await this.store.create(db, join.create!));
        await this.store.join(db, join.incidentIds, massEventId, new Date());
        for (const incidentId of join.incidentIds) emit("incident.changed", { incidentId });
        emit("mass_event.changed", { massEventId });
      }
    });
  }
}
