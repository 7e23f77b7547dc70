import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestPlatform, type TestPlatform } from "../support/platform.ts";
import { connectConsole } from "../support/clients.ts";
import { runDemoCrews, demoCrewOptions } from "../../devices/crews.ts";
import { createLogger } from "../../server/platform/logger.ts";
import { DEMO_CREW_PREFIX, DEMO_PASSWORD, demoCrewUsername } from "../../server/seed/tianjin.ts";
import type { CallView, IncidentView, TeamView } from "../../server/contracts/index.ts";

/**
 * The demo crews of `npm start`, 100 times faster: accept, drive (positions pushed live), arrive by position,
 * release. They act over HTTP with their own rescuer sessions, woken by their socket's pushes (the idle poll
 * stays at its minute); the test checks the outcome in the database.
 */
describe("demo rescue crews", () => {
  let platform: TestPlatform;
  let consoleClient: Awaited<ReturnType<typeof connectConsole>>;
  let crews: ReturnType<typeof runDemoCrews>;
  let lift: { id: number; siteId: number };

  beforeAll(async () => {
    platform = await startTestPlatform();
    consoleClient = await connectConsole(platform.baseUrl);
    lift = await platform.db.prisma.elevator.findFirstOrThrow({ orderBy: { id: "asc" }, skip: 40 });
    const { maintenanceCompanyId } = await platform.db.prisma.elevator.findUniqueOrThrow({ where: { id: lift.id } });
    // The crews of the lift's contracted company (the engine offers to those first): a few sign-ins, not ~240.
    const accounts = await platform.db.prisma.user.findMany({
      where: { role: "rescuer", username: { startsWith: DEMO_CREW_PREFIX }, team: { maintenanceCompanyId } },
      orderBy: { id: "asc" },
    });
    expect(accounts.length).toBeGreaterThan(0);
    crews = runDemoCrews({ baseUrl: platform.baseUrl, usernames: accounts.map((a) => a.username), password: DEMO_PASSWORD }, createLogger("silent"), {
      ...demoCrewOptions,
      tickMs: 100,
      timeScale: 100,
    });
  });
  afterAll(async () => {
    await crews?.stop();
    consoleClient?.close();
    await platform?.close();
  });

  const open = async (elevatorId: number, autoDispatch: boolean) => {
    const res = await platform.fetch("/api/calls", {
      method: "POST",
      body: JSON.stringify({ callerNumber: "13600000000", elevatorId, openIncident: true, autoDispatch }),
    });
    expect(res.status).toBe(201);
    return ((await res.json()) as { call: CallView; incident: IncidentView }).incident;
  };

  it("takes an offered incident to released, moving the team on the way, and leaves closing to the dispatcher", async () => {
    const incident = await open(lift.id, true);
    await expect
      .poll(async () => (await platform.db.prisma.incident.findUniqueOrThrow({ where: { id: incident.id } })).status, { timeout: 20_000, interval: 200 })
      .toBe("released");
    const offer = await platform.db.prisma.dispatchOffer.findFirstOrThrow({ where: { incidentId: incident.id, arrivedAt: { not: null } } });
    const site = await platform.db.prisma.site.findUniqueOrThrow({ where: { id: lift.siteId } });
    expect(offer.arrivedAt).not.toBeNull();
    // Arrived by position, not by a confirmation: the reported point is the elevator's site.
    expect(Math.abs(offer.arrivalLat! - site.lat)).toBeLessThan(0.001);
    const events = await platform.db.prisma.incidentEvent.findMany({ where: { incidentId: incident.id }, orderBy: { id: "asc" } });
    expect(events.map((e) => e.toStatus ?? e.type)).toEqual(expect.arrayContaining(["offer_accepted", "en_route", "on_scene", "released"]));
    // Every step was the crew's own signed-in account acting over REST, the release included.
    const crew = demoCrewUsername(offer.teamId);
    for (const step of ["offer_accepted", "en_route", "on_scene", "released"]) {
      const event = events.find((e) => (e.toStatus ?? e.type) === step);
      expect({ step, actorType: event?.actorType, actorId: event?.actorId }).toEqual({ step, actorType: "team", actorId: crew });
    }
    // The console saw the team move: several distinct positions pushed while it drove.
    const positions = new Set(
      consoleClient.received
        .filter((r) => r.event === "team:updated" && (r.payload as TeamView).id === offer.teamId)
        .map((r) => `${(r.payload as TeamView).lat.toFixed(5)},${(r.payload as TeamView).lng.toFixed(5)}`),
    );
    expect(positions.size).toBeGreaterThan(3);
    // Closing needs a cause and the passenger callback: the crews never close.
    await new Promise((r) => setTimeout(r, 500));
    expect((await platform.db.prisma.incident.findUniqueOrThrow({ where: { id: incident.id } })).status).toBe("released");
  });

  it("leaves a team with its own account (a real rescuer's phone) alone", async () => {
    const rescuer = await platform.db.prisma.user.findFirstOrThrow({ where: { role: "rescuer", teamId: { not: null } } });
    const other = await platform.db.prisma.elevator.findFirstOrThrow({ orderBy: { id: "asc" }, skip: 41 });
    const incident = await open(other.id, false);
    const res = await platform.fetch(`/api/incidents/${incident.id}/offers`, { method: "POST", body: JSON.stringify({ teamId: rescuer.teamId, reason: "调度员派单" }) });
    expect(res.status).toBe(201);
    await new Promise((r) => setTimeout(r, 1500));
    const offer = await platform.db.prisma.dispatchOffer.findFirstOrThrow({ where: { incidentId: incident.id, teamId: rescuer.teamId! } });
    expect(offer.status).toBe("offered");
  });
});
