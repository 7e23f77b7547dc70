import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestPlatform, type TestPlatform } from "../support/platform.ts";
import { powerCut } from "../bench/dispatch.ts";

const SAME_SITE_MAX = 3;

/**
 * A city-wide power cut: 500 entrapments opened and dispatched concurrently. No team may hold two active
 * offers, except several lifts of one building under the mass-event rule; incidents left without a team
 * stay `reported`, and only when no team that could serve them is free.
 */
describe("power cut: 500 entrapments at once", () => {
  let platform: TestPlatform;

  beforeAll(async () => {
    // Offers only: the SLA loop (early warnings adding backup teams) is kept out of this test.
    platform = await startTestPlatform({ SLA_TICK_MS: "60000", DISPATCH_SAME_SITE_MAX: String(SAME_SITE_MAX) });
  });
  afterAll(async () => {
    await platform?.close();
  });

  it("books no team twice", { timeout: 120_000 }, async () => {
    const result = await powerCut(platform, 500);
    console.log(`[power cut] ${JSON.stringify({ ...result, incidentIds: undefined })}`);
    const prisma = platform.db.prisma;
    const incidents = await prisma.incident.findMany({
      where: { id: { in: result.incidentIds } },
      include: { offers: true, elevator: true },
    });
    expect(incidents).toHaveLength(500);
    const active = incidents.flatMap((i) => i.offers.filter((o) => o.status === "offered").map((o) => ({ ...o, siteId: i.elevator.siteId })));

    for (const incident of incidents) {
      const mine = incident.offers.filter((o) => o.status === "offered");
      if (incident.status === "dispatched") expect(mine).toHaveLength(1);
      else expect([incident.status, mine.length]).toEqual(["reported", 0]);
    }

    const byTeam = new Map<number, typeof active>();
    for (const offer of active) byTeam.set(offer.teamId, [...(byTeam.get(offer.teamId) ?? []), offer]);
    for (const [teamId, offers] of byTeam) {
      if (offers.length === 1) continue;
      // Only the mass-event rule lets a team hold several: same building, within the limit.
      expect({ teamId, sites: new Set(offers.map((o) => o.siteId)).size }).toEqual({ teamId, sites: 1 });
      expect(offers.length).toBeLessThanOrEqual(SAME_SITE_MAX);
    }

    // Database and memory agree on every booked team.
    const teams = await prisma.team.findMany();
    for (const team of teams) {
      const expected = byTeam.has(team.id) ? "offered" : "available";
      expect({ id: team.id, status: team.status }).toEqual({ id: team.id, status: expected });
      expect(platform.dispatch.teams.view(team.id)!.status).toBe(expected);
    }

    // Left `reported` only for want of a team: then every rescue station and fire team is taken.
    const reported = incidents.filter((i) => i.status === "reported");
    expect(reported.length).toBe(result.reportedNoTeam);
    if (reported.length > 0) {
      expect(teams.filter((t) => t.kind !== "maintenance" && t.status === "available")).toEqual([]);
    }
    expect(result.dispatched + result.reportedNoTeam).toBe(500);
  });
});
