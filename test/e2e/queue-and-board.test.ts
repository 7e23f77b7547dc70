import { describe, expect, it } from "vitest";
import { consoleSuite } from "../support/console-suite.ts";
import { browserSkipReason, screenshotPath } from "../support/browser.ts";
import type { CallView, IncidentView } from "../../server/contracts/index.ts";

const skip = browserSkipReason();

/** The queue's filters and mass-event groups, and the dispatch board's override and backup, in Chromium. */
describe.skipIf(skip)("incident queue and dispatch board in Chromium", () => {
  const suite = consoleSuite();

  let caller = 0;
  const open = async (elevatorId: number, autoDispatch = true): Promise<IncidentView> => {
    const res = await suite.platform.fetch("/api/calls", {
      method: "POST",
      body: JSON.stringify({ callerNumber: `1390000${String(++caller).padStart(4, "0")}`, elevatorId, openIncident: true, autoDispatch }),
    });
    expect(res.status).toBe(201);
    return ((await res.json()) as { call: CallView; incident: IncidentView }).incident;
  };
  const item = (id: number) => suite.page.locator(`[data-testid="incident-item"][data-incident-id="${id}"]`);
  const shownIds = () => suite.page.locator('[data-testid="incident-item"]').evaluateAll((els) => els.map((e) => Number(e.getAttribute("data-incident-id"))).sort((a, b) => a - b));

  it("overrides the engine's team and adds a backup, one click each", async () => {
    const lift = await suite.platform.db.prisma.elevator.findFirstOrThrow({ orderBy: { id: "asc" }, skip: 30 });
    const incident = await open(lift.id);
    // The engine dispatches after the incident's commit, so the offer follows the answer shortly.
    const offered = () => suite.platform.db.prisma.dispatchOffer.findFirst({ where: { incidentId: incident.id, status: "offered" } });
    await expect.poll(offered, { timeout: 5000 }).not.toBeNull();
    const first = (await offered())!;
    await item(incident.id).locator("button").first().click();
    await suite.page.locator(`[data-testid="offer"][data-offer-id="${first.id}"][data-status="offered"]`).waitFor({ timeout: 10_000 });

    // 改派: the offered team is withdrawn and the chosen one asked instead, in one request.
    const other = suite.page.locator(`[data-testid="candidate"]:not([data-team-id="${first.teamId}"])`).first();
    await other.waitFor({ timeout: 10_000 });
    const chosen = Number(await other.getAttribute("data-team-id"));
    await other.locator('[data-testid="candidate-override"]').click();
    await suite.page.locator(`[data-testid="offer"][data-team-id="${chosen}"][data-status="offered"]`).waitFor({ timeout: 10_000 });
    await suite.page.locator(`[data-testid="offer"][data-offer-id="${first.id}"][data-status="withdrawn"]`).waitFor();
    expect((await suite.platform.db.prisma.dispatchOffer.findUniqueOrThrow({ where: { id: first.id } })).status).toBe("withdrawn");

    // 增援: a second team on top, marked as backup.
    const backupRow = suite.page.locator(`[data-testid="candidate"]:not([data-team-id="${chosen}"]):not([data-team-id="${first.teamId}"])`).first();
    const backupTeam = Number(await backupRow.getAttribute("data-team-id"));
    await backupRow.locator('[data-testid="candidate-backup"]').click();
    await suite.page.locator(`[data-testid="offer"][data-team-id="${backupTeam}"][data-status="offered"]`).waitFor({ timeout: 10_000 });
    const backup = await suite.platform.db.prisma.dispatchOffer.findFirstOrThrow({ where: { incidentId: incident.id, teamId: backupTeam } });
    expect(backup.backup).toBe(true);
    await suite.page.screenshot({ path: screenshotPath("dispatch-board") });
  });

  it("groups a building's simultaneous entrapments and filters the queue by district, status and tier", async () => {
    const [site] = await suite.platform.db.prisma.elevator.groupBy({ by: ["siteId"], _count: { id: true }, having: { id: { _count: { gte: 3 } } }, orderBy: { siteId: "asc" } });
    const lifts = await suite.platform.db.prisma.elevator.findMany({ where: { siteId: site!.siteId }, take: 3, orderBy: { id: "asc" } });
    const members: IncidentView[] = [];
    for (const lift of lifts) members.push(await open(lift.id, false));
    // Grouping runs after the third incident's commit.
    const massEventOf = async () => (await suite.platform.db.prisma.incident.findUniqueOrThrow({ where: { id: members[0]!.id } })).massEventId;
    await expect.poll(massEventOf, { timeout: 5000 }).not.toBeNull();
    const massEventId = (await massEventOf())!;
    const group = suite.page.locator(`[data-testid="mass-group"][data-mass-event-id="${massEventId}"]`);
    await group.waitFor({ timeout: 5000 });
    await expect.poll(() => group.locator('[data-testid="incident-item"]').count()).toBe(3);
    await suite.page.screenshot({ path: screenshotPath("queue-mass-event") });
    await group.locator(".mass__head").click();
    expect(await group.locator('[data-testid="incident-item"]').count()).toBe(0);
    await group.locator(".mass__head").click();

    // District: only that district's incidents remain.
    const all = await shownIds();
    const districtId = members[0]!.district.id;
    await suite.page.selectOption('[data-testid="filter-district"]', String(districtId));
    const inDistrict = await suite.platform.db.prisma.incident.findMany({
      where: { id: { in: all }, districtId },
      select: { id: true },
      orderBy: { id: "asc" },
    });
    await expect.poll(shownIds).toEqual(inDistrict.map((i) => i.id));
    // Status and tier: the mass event's three were opened without dispatch, the first test's incident has offers.
    await suite.page.selectOption('[data-testid="filter-district"]', "");
    await suite.page.selectOption('[data-testid="filter-tier"]', "none");
    await expect.poll(shownIds).toEqual(members.map((m) => m.id).sort((a, b) => a - b));
    await suite.page.selectOption('[data-testid="filter-status"]', "dispatched");
    await expect.poll(shownIds).toEqual([]);
    await suite.page.click('[data-testid="filter-clear"]');
    await expect.poll(shownIds).toEqual(all);
  });
});
