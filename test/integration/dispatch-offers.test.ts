import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestPlatform, type TestPlatform } from "../support/platform.ts";
import { connectConsole } from "../support/clients.ts";
import { openOrAttachIncident, transitionIncident } from "../../server/incidents/repository/writes.ts";
import type { IncidentView, TeamView } from "../../server/contracts/index.ts";

/**
 * Offers over REST on the real server: decline -> next team, accept, arrival radius or a dispatcher's
 * confirmation, learning from the travel time, manual override and backup, team state, and the team
 * freed when the incident ends. Every step lands in the incident timeline.
 */
describe("dispatch offers", () => {
  let platform: TestPlatform;
  let consoleClient: Awaited<ReturnType<typeof connectConsole>>;
  const used = new Set<number>();

  beforeAll(async () => {
    // The SLA loop is slowed down so that no early warning adds backup teams in the middle of a step.
    platform = await startTestPlatform({ SLA_TICK_MS: "60000" });
    consoleClient = await connectConsole(platform.baseUrl);
  });
  afterAll(async () => {
    consoleClient?.close();
    await platform?.close();
  });

  const post = async (path: string, body: unknown) => {
    const res = await platform.fetch(`${path}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: await res.json() };
  };
  const events = async (id: number) =>
    ((await (await platform.fetch(`/api/incidents/${id}/events`)).json()) as { type: string; reason: string | null; data: unknown }[]);

  /** An elevator whose contracted company has two teams close enough to meet the 30-minute limit. */
  const pickElevator = async () => {
    const elevators = await platform.db.prisma.elevator.findMany({ include: { site: { include: { district: true } } }, orderBy: { id: "asc" } });
    for (const e of elevators) {
      if (used.has(e.id)) continue;
      const ranked = platform.dispatch.teams.rank(
        { lat: e.site.lat, lng: e.site.lng, siteId: e.siteId, companyId: e.maintenanceCompanyId, detourFactor: e.site.district.detourFactor },
        1,
        { limit: 2 },
      );
      if (ranked.length === 2 && ranked[1]!.etaS < 15 * 60) {
        used.add(e.id);
        return e;
      }
    }
    throw new Error("no suitable elevator in the test dataset");
  };
  const open = async (elevatorId: number) => {
    const { incidentId } = await platform.db.prisma.$transaction((tx) =>
      openOrAttachIncident(tx, { elevatorId, kind: "entrapment", source: "manual", reportedAt: new Date(), actor: { type: "user", id: "test" } }),
    );
    return incidentId;
  };

  it("offers the next team on decline, then accepts, checks the arrival radius and learns the travel time", async () => {
    const elevator = await pickElevator();
    const incidentId = await open(elevator.id);
    const first = await platform.dispatch.offers.autoDispatch(incidentId);
    expect(first).not.toBeNull();
    const o1 = await platform.db.prisma.dispatchOffer.findUniqueOrThrow({ where: { id: first! } });
    expect(o1.tier).toBe(1);

    const candidates = await (await platform.fetch(`/api/incidents/${incidentId}/candidates?limit=3`)).json();
    expect(candidates.length).toBeGreaterThan(0);
    expect(candidates.some((c: { teamId: number }) => c.teamId === o1.teamId)).toBe(false);

    expect((await post(`/api/offers/${o1.id}/decline`, {})).status).toBe(400);
    const declined = await post(`/api/offers/${o1.id}/decline`, { reason: "车辆故障", by: "team-lead" });
    expect(declined.status).toBe(200);
    // The next team is the decline's follow-up (an outbox row of its transaction), offered right after it.
    const offeredAgain = async () => (await (await platform.fetch(`/api/incidents/${incidentId}`)).json()) as IncidentView;
    await expect.poll(async () => (await offeredAgain()).offers.some((o) => o.status === "offered"), { timeout: 5000, interval: 50 }).toBe(true);
    const view = await offeredAgain();
    expect(view.status).toBe("dispatched");
    const o2 = view.offers.find((o) => o.status === "offered")!;
    expect(o2.teamId).not.toBe(o1.teamId);
    expect(view.offers.find((o) => o.id === o1.id)!.status).toBe("declined");
    expect(platform.dispatch.teams.view(o1.teamId)!.status).toBe("available");

    expect((await post(`/api/offers/${o1.id}/accept`, {})).status).toBe(409);
    expect((await post(`/api/offers/999999/accept`, {})).status).toBe(404);
    expect((await post(`/api/offers/abc/accept`, {})).status).toBe(400);

    const accepted = await post(`/api/offers/${o2.id}/accept`, { by: "rescuer" });
    expect(accepted.status).toBe(200);
    expect(accepted.body.status).toBe("accepted");
    expect(platform.dispatch.teams.view(o2.teamId)!.status).toBe("busy");
    await consoleClient.waitFor<TeamView>("team:updated", (t) => t.id === o2.teamId && t.status === "busy");

    // 1 km away is not on scene; at the site it is.
    const far = await post(`/api/offers/${o2.id}/arrive`, { lat: elevator.site.lat + 0.009, lng: elevator.site.lng });
    expect(far.status).toBe(422);
    expect(far.body.error.id).toBe("not_at_site");
    const arrived = await post(`/api/offers/${o2.id}/arrive`, { lat: elevator.site.lat + 0.001, lng: elevator.site.lng });
    expect(arrived.status).toBe(200);
    expect(arrived.body.status).toBe("on_scene");
    const team = await platform.db.prisma.team.findUniqueOrThrow({ where: { id: o2.teamId } });
    expect(team.travelSamples).toBe(1);
    expect(team.travelRatio).not.toBe(1); // a few ms against minutes of estimate: clamped at the minimum
    const pending = await platform.db.prisma.slaDeadline.count({ where: { incidentId, firedAt: null, cancelledAt: null } });
    expect(pending).toBe(0);

    // The incident ends: its follow-up frees the team and completes its offer.
    await platform.uow.run(async (work) => {
      await transitionIncident(work.db, incidentId, "released", { actor: { type: "user", id: "test" }, at: new Date() });
      work.emit("incident.changed", { incidentId });
    });
    await expect.poll(() => platform.dispatch.teams.view(o2.teamId)!.status).toBe("available");
    expect((await platform.db.prisma.dispatchOffer.findUniqueOrThrow({ where: { id: o2.id } })).status).toBe("completed");

    const types = (await events(incidentId)).map((e) => e.type);
    expect(types).toEqual(
      expect.arrayContaining(["reported", "offer_made", "offer_declined", "offer_accepted", "team_arrived", "transition"]),
    );
    const declineEvent = (await events(incidentId)).find((e) => e.type === "offer_declined")!;
    expect(declineEvent.reason).toBe("车辆故障");
  });

  it("lets a dispatcher confirm arrival with a reason, override an offer and add a backup team", async () => {
    const elevator = await pickElevator();
    const incidentId = await open(elevator.id);
    const first = (await platform.dispatch.offers.autoDispatch(incidentId))!;
    const o1 = await platform.db.prisma.dispatchOffer.findUniqueOrThrow({ where: { id: first } });
    const rescue = platform.dispatch.teams.list().find((t) => t.kind === "rescue_station" && t.status === "available")!;

    const overridden = await post(`/api/offers/${o1.id}/withdraw`, { reason: "调度员改派", reassignTeamId: rescue.id, by: "dispatcher" });
    expect(overridden.status).toBe(200);
    const manual = (overridden.body as IncidentView).offers.find((o) => o.teamId === rescue.id)!;
    expect(manual.status).toBe("offered");
    expect(manual.tier).toBe(2);
    expect((overridden.body as IncidentView).offers.find((o) => o.id === o1.id)!.status).toBe("withdrawn");
    expect(platform.dispatch.teams.view(o1.teamId)!.status).toBe("available");

    // The same team again is refused; a busy/offered team elsewhere is refused.
    expect((await post(`/api/incidents/${incidentId}/offers`, { teamId: rescue.id, reason: "再派" })).status).toBe(409);
    const backup = await post(`/api/incidents/${incidentId}/offers`, { teamId: o1.teamId, backup: true, reason: "增派后备", by: "dispatcher" });
    expect(backup.status).toBe(201);
    expect((backup.body as IncidentView).offers.find((o) => o.teamId === o1.teamId && o.status === "offered")!.backup).toBe(true);

    expect((await post(`/api/offers/${manual.id}/arrive`, { confirm: true, reason: "电话确认到场" })).status).toBe(409); // not accepted yet
    await post(`/api/offers/${manual.id}/accept`, {});
    expect((await post(`/api/offers/${manual.id}/depart`, {})).body.status).toBe("en_route");
    expect((await post(`/api/offers/${manual.id}/arrive`, { confirm: true })).status).toBe(400); // reason required
    const confirmed = await post(`/api/offers/${manual.id}/arrive`, { confirm: true, reason: "GPS 信号弱，电话确认到场", by: "dispatcher" });
    expect(confirmed.status).toBe(200);
    expect(confirmed.body.status).toBe("on_scene");
    const arrival = (await events(incidentId)).find((e) => e.type === "team_arrived")!;
    expect(arrival.reason).toBe("GPS 信号弱，电话确认到场");
    expect(arrival.data).toMatchObject({ confirmedByDispatcher: true });
  });

  it("alerts every tier at once when the dispatcher says so", async () => {
    const elevator = await pickElevator();
    const incidentId = await open(elevator.id);
    const res = await post(`/api/incidents/${incidentId}/offers`, { allTiers: true, reason: "多名被困，三级联动", by: "dispatcher" });
    expect(res.status).toBe(201);
    const offers = (res.body as IncidentView).offers;
    expect(offers.map((o) => [o.tier, o.backup])).toEqual([
      [1, false],
      [2, true],
      [3, true],
    ]);
    expect((res.body as IncidentView).status).toBe("dispatched");
    expect((await post(`/api/incidents/${incidentId}/offers`, { allTiers: true, teamId: 1, reason: "x y" })).status).toBe(400);
    expect((await post(`/api/incidents/999999/offers`, { teamId: 1, reason: "手动派单" })).status).toBe(404);
  });

  it("sets team positions and duty status over REST and broadcasts them", async () => {
    const team = platform.dispatch.teams.list().find((t) => t.kind === "fire" && t.status === "available")!;
    const moved = await post(`/api/teams/${team.id}/position`, { lat: 39.12, lng: 117.2 });
    expect(moved.status).toBe(200);
    expect(moved.body).toMatchObject({ lat: 39.12, lng: 117.2 });
    await consoleClient.waitFor<TeamView>("team:updated", (t) => t.id === team.id && t.lat === 39.12);
    expect((await post(`/api/teams/${team.id}/position`, { lat: 139, lng: 117.2 })).status).toBe(400);
    expect((await post(`/api/teams/${team.id}/status`, { status: "busy" })).status).toBe(400);
    expect((await post(`/api/teams/99999/status`, { status: "off_duty" })).status).toBe(404);
    expect((await post(`/api/teams/${team.id}/status`, { status: "off_duty" })).body.status).toBe("off_duty");
    expect(platform.dispatch.teams.rank({ lat: 39.12, lng: 117.2, siteId: 1, companyId: 1, detourFactor: 1.3 }, 3, { limit: 50 }).some((c) => c.team.id === team.id)).toBe(false);
    expect((await post(`/api/teams/${team.id}/status`, { status: "available" })).body.status).toBe("available");

    // A team holding an offer cannot be taken off duty behind the dispatcher's back.
    const busy = (await platform.db.prisma.dispatchOffer.findFirstOrThrow({ where: { status: { in: ["offered", "accepted"] } } })).teamId;
    expect((await post(`/api/teams/${busy}/status`, { status: "off_duty" })).status).toBe(409);
  });
});
