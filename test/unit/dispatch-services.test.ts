import { describe, expect, it } from "vitest";
import { Answers } from "../../server/dispatch/answers.ts";
import { Offers } from "../../server/dispatch/offers.ts";
import { StraightLineEstimator } from "../../server/dispatch/estimator.ts";
import { defaultTierPolicy, type TeamStatus, type TierPolicy } from "../../server/dispatch/policy.ts";
import type { DispatchIncident, DispatchStore, NewOffer, OfferRow, TeamRow } from "../../server/dispatch/repository.ts";
import { TeamBoard } from "../../server/dispatch/teams.ts";
import type { IncidentStatus } from "../../server/incidents/lifecycle.ts";
import type { Logger } from "../../server/platform/logger.ts";
import type { Transactional, Work } from "../../server/platform/outbox/unit-of-work.ts";
import type { OutboxTopics, Topic } from "../../server/platform/outbox/topics.ts";

/**
 * The dispatch services over an in-memory fake of their repository and unit of work: what each
 * operation writes, and which follow-ups it records in the same unit of work. The SQL behind the
 * interface is exercised against real databases by the integration tests.
 */
const now = new Date("2026-11-27T04:00:00Z");
const site = { lat: 39.1175, lng: 117.2001 };

interface FakeIncident {
  id: number;
  status: IncidentStatus;
  siteId: number;
  companyId: number;
}

class FakeStore implements DispatchStore {
  teams = new Map<number, TeamRow>();
  incidents = new Map<number, FakeIncident>();
  offers = new Map<number, OfferRow & { siteId: number }>();
  events: { incidentId: number; type: string }[] = [];
  deadlines: { incidentId: number; kind: string }[] = [];
  /** Teams another process books first: their conditional claim fails once. */
  takenElsewhere = new Set<number>();
  private nextOfferId = 1;

  addTeam(id: number, overrides: Partial<TeamRow> = {}): void {
    this.teams.set(id, {
      id,
      name: `team ${id}`,
      phone: "",
      kind: "maintenance",
      status: "available",
      maintenanceCompanyId: 1,
      baseLat: site.lat + id / 1000,
      baseLng: site.lng,
      lat: null,
      lng: null,
      positionAt: null,
      travelRatio: 1,
      travelSamples: 0,
      organisation: "",
      ...overrides,
    });
  }

  active(incidentId: number) {
    return [...this.offers.values()].filter((o) => o.incidentId === incidentId && (o.status === "offered" || o.status === "accepted"));
  }

  async loadTeams() {
    return { teams: [...this.teams.values()].map((t) => ({ ...t })), activeOffers: [] };
  }
  async loadIncident(incidentId: number): Promise<DispatchIncident | null> {
    const incident = this.incidents.get(incidentId);
    if (!incident) return null;
    return {
      id: incident.id,
      code: `TJ-${incident.id}`,
      status: incident.status,
      arrivalDeadlineAt: new Date(now.getTime() + 30 * 60_000),
      ...site,
      siteId: incident.siteId,
      companyId: incident.companyId,
      detourFactor: 1.3,
      offers: [...this.offers.values()].filter((o) => o.incidentId === incidentId).map((o) => ({ id: o.id, teamId: o.teamId, status: o.status, tier: o.tier })),
    };
  }
  async incidentStatus(incidentId: number) {
    return this.incidents.get(incidentId)?.status ?? null;
  }
  async teamStatus(teamId: number) {
    return this.teams.get(teamId)?.status ?? null;
  }
  async lockIncident(_tx: unknown, incidentId: number) {
    const incident = this.incidents.get(incidentId);
    return incident ? { status: incident.status, kind: "entrapment" as const } : null;
  }
  async transition(_tx: unknown, incidentId: number, to: IncidentStatus) {
    this.incidents.get(incidentId)!.status = to;
    this.events.push({ incidentId, type: "transition" });
  }
  async appendEvent(_tx: unknown, incidentId: number, event: { type: string }) {
    this.events.push({ incidentId, type: event.type });
  }
  async claimTeam(_tx: unknown, teamId: number, _siteId: number, _policy: TierPolicy): Promise<TeamStatus | null> {
    const team = this.teams.get(teamId)!;
    if (this.takenElsewhere.delete(teamId)) {
      team.status = "offered";
      return null;
    }
    if (team.status !== "available") return null;
    team.status = "offered";
    return "offered";
  }
  async refreshTeamStatus(_tx: unknown, teamId: number): Promise<TeamStatus> {
    const mine = [...this.offers.values()].filter((o) => o.teamId === teamId);
    const team = this.teams.get(teamId)!;
    team.status = mine.some((o) => o.status === "accepted") ? "busy" : mine.some((o) => o.status === "offered") ? "offered" : "available";
    return team.status;
  }
  async insertOffer(_tx: unknown, offer: NewOffer) {
    const id = this.nextOfferId++;
    const incident = this.incidents.get(offer.incidentId)!;
    this.offers.set(id, {
      id,
      incidentId: offer.incidentId,
      teamId: offer.teamId,
      status: "offered",
      tier: offer.tier,
      backup: offer.backup,
      estimatedArrivalS: offer.etaS,
      respondedAt: null,
      arrivedAt: null,
      siteId: incident.siteId,
    });
    this.events.push({ incidentId: offer.incidentId, type: "offer_made" });
    if (offer.arrivalDeadlines) this.deadlines.push({ incidentId: offer.incidentId, kind: "arrival" });
    return id;
  }
  async offer(offerId: number) {
    const offer = this.offers.get(offerId);
    return offer ? { ...offer } : null;
  }
  async siteOfOffer() {
    return null;
  }
  async recordAnswer(_tx: unknown, offerId: number, answer: { status: OfferRow["status"] }) {
    this.offers.get(offerId)!.status = answer.status;
  }
  async countOffers(_tx: unknown, incidentId: number, statuses: readonly string[]) {
    return [...this.offers.values()].filter((o) => o.incidentId === incidentId && statuses.includes(o.status)).length;
  }
  async recordArrival() {}
  async teamTravel() {
    return { ratio: 1, samples: 0 };
  }
  async setTeamTravel() {}
  async endActiveOffers() {
    return [];
  }
  async setTeamPosition() {
    return 1;
  }
  async lockTeamActiveOffers() {
    return 0;
  }
  async setTeamStatus() {}
  async escalationRecorded() {
    return false;
  }
  async insertArrivalDeadlines(_tx: unknown, incidentId: number) {
    this.deadlines.push({ incidentId, kind: "arrival" });
  }
  async cancelOfferTimeout() {}
  async cancelIncidentDeadlines() {}
}

/** Runs the work at once and keeps what each unit of work emitted, in order. */
class FakeUnitOfWork implements Transactional {
  readonly units: { topic: Topic; payload: unknown }[][] = [];
  async run<T>(fn: (work: Work) => Promise<T>): Promise<T> {
    const emitted: { topic: Topic; payload: unknown }[] = [];
    const value = await fn({ db: {} as Work["db"], emit: <K extends Topic>(topic: K, payload: OutboxTopics[K]) => void emitted.push({ topic, payload }) });
    this.units.push(emitted);
    return value;
  }
  topics(): Topic[] {
    return this.units.flat().map((e) => e.topic);
  }
}

const silent = { warn() {}, info() {}, error() {}, debug() {} } as unknown as Logger;

async function setup(teams: [number, Partial<TeamRow>?][]) {
  const store = new FakeStore();
  for (const [id, overrides] of teams) store.addTeam(id, overrides);
  store.incidents.set(1, { id: 1, status: "reported", siteId: 10, companyId: 1 });
  const uow = new FakeUnitOfWork();
  const clock = () => now;
  const board = new TeamBoard(store, uow, { staleAfterMs: 300_000, policy: defaultTierPolicy, estimator: new StraightLineEstimator(), clock });
  await board.load();
  const offers = new Offers(store, uow, board, silent, { offerTimeoutS: 180, warningLeadS: 600, clock });
  const answers = new Answers(store, uow, board, offers, { offerTimeoutS: 180, clock });
  return { store, uow, board, offers, answers };
}

describe("dispatch services over a fake repository", () => {
  it("offers a new entrapment to the contracted company's nearest team, with its follow-ups in the same unit of work", async () => {
    const { store, uow, board, offers } = await setup([[1], [2, { maintenanceCompanyId: 2 }], [3, { kind: "rescue_station", maintenanceCompanyId: null }]]);
    const offerId = await offers.autoDispatch(1);
    expect(store.offers.get(offerId!)).toMatchObject({ teamId: 1, tier: 1, status: "offered" });
    expect(store.incidents.get(1)!.status).toBe("dispatched");
    expect(store.deadlines).toEqual([{ incidentId: 1, kind: "arrival" }]);
    expect(uow.units.at(-1)!.map((e) => e.topic)).toEqual(["team.changed", "incident.changed"]);
    expect(board.view(1)!.status).toBe("offered");
  });

  it("starts the arrival deadlines when nobody is free, and is a no-op when delivered again", async () => {
    const { store, offers } = await setup([[1, { status: "off_duty" }]]);
    expect(await offers.autoDispatch(1)).toBeNull();
    expect(store.incidents.get(1)!.status).toBe("reported");
    expect(store.deadlines).toEqual([{ incidentId: 1, kind: "arrival" }]);
    store.addTeam(2);
    store.incidents.get(1)!.status = "dispatched";
    expect(await offers.autoDispatch(1)).toBeNull(); // past reported: the first dispatch already happened
    expect(store.offers.size).toBe(0);
  });

  it("moves on to the next team when another process booked the first choice", async () => {
    const { store, offers } = await setup([[1], [2]]);
    store.takenElsewhere.add(1);
    const offerId = await offers.autoDispatch(1);
    expect(store.offers.get(offerId!)!.teamId).toBe(2);
  });

  it("records the next offer as a follow-up of the decline that left the incident without a team", async () => {
    const { store, uow, offers, answers } = await setup([[1], [2]]);
    const first = (await offers.autoDispatch(1))!;
    await answers.decline(first, "车辆故障", { type: "team", id: "1" });
    expect(uow.units.at(-1)!.map((e) => e.topic)).toEqual(["team.changed", "incident.changed", "dispatch.next"]);
    expect(store.offers.size).toBe(1); // the next team is the follow-up's job, not the decline's
    await offers.dispatchIfUnassigned(1, "previous team declined");
    expect(store.active(1).map((o) => o.teamId)).toEqual([2]);
    // Delivered twice (redelivery, or a second process): still one active offer.
    await offers.dispatchIfUnassigned(1, "previous team declined");
    expect(store.active(1)).toHaveLength(1);
  });

  it("records no next offer when a backup team still holds the incident", async () => {
    const { uow, offers, answers } = await setup([[1], [2, { kind: "rescue_station", maintenanceCompanyId: null }]]);
    const first = (await offers.autoDispatch(1))!;
    await offers.dispatchNext(1, { aboveTier: 1, backup: true, reason: "backup" });
    await answers.decline(first, "路远", { type: "team", id: "1" });
    expect(uow.topics()).not.toContain("dispatch.next");
  });

  it("books no second team when an offer appeared between the follow-up's read and its lock", async () => {
    const { store, offers } = await setup([[1], [2]]);
    store.incidents.get(1)!.status = "dispatched";
    // The follow-up reads no active offer; by the time it holds the incident's lock a dispatcher has sent team 2.
    const lock = store.lockIncident.bind(store);
    store.lockIncident = async (tx, incidentId) => {
      if (store.offers.size === 0) {
        store.teams.get(2)!.status = "offered";
        await store.insertOffer(tx, { incidentId: 1, teamId: 2, tier: 1, etaS: 60, distanceM: 100, backup: false } as NewOffer);
      }
      return lock(tx, incidentId);
    };
    await offers.dispatchIfUnassigned(1, "previous offer expired");
    expect(store.active(1).map((o) => o.teamId)).toEqual([2]);
  });

  it("leaves an answered offer alone when its timeout fires late", async () => {
    const { store, uow, offers, answers } = await setup([[1], [2]]);
    const first = (await offers.autoDispatch(1))!;
    await answers.accept(first, { type: "team", id: "1" });
    const units = uow.units.length;
    await answers.expire(first);
    expect(store.offers.get(first)!.status).toBe("accepted");
    expect(uow.units.slice(units).flat()).toEqual([]);
  });
});
