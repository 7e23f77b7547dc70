import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, Page } from "playwright-core";
import { startTestPlatform, type TestPlatform } from "../support/platform.ts";
import { createTestDatabase, type TestDatabase } from "../support/database.ts";
import { browserSkipReason, launchChromium, openConsole, screenshotPath } from "../support/browser.ts";
import type { CallView, IncidentView } from "../../server/contracts/index.ts";

const skip = browserSkipReason();

/**
 * The server restarts while the console is open: the indicator shows the break, and after reconnecting
 * the console shows what the database holds, including changes made while it was cut off, with no
 * duplicated and no stale incidents.
 */
describe.skipIf(skip)("console across a server restart", () => {
  let database: TestDatabase;
  let platform: TestPlatform;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    database = await createTestDatabase();
    platform = await startTestPlatform({}, { database });
    browser = await launchChromium();
    page = await openConsole(browser, platform.baseUrl);
  });
  afterAll(async () => {
    await browser?.close();
    await platform?.close();
    await database?.drop();
  });

  const openIncident = async (p: TestPlatform, skipElevators: number): Promise<IncidentView> => {
    const lift = await p.db.prisma.elevator.findFirstOrThrow({ orderBy: { id: "asc" }, skip: skipElevators });
    const res = await p.fetch("/api/calls", {
      method: "POST",
      body: JSON.stringify({ callerNumber: `1380000${String(skipElevators).padStart(4, "0")}`, rescueCode: lift.rescueCode, openIncident: true }),
    });
    expect(res.status).toBe(201);
    return ((await res.json()) as { call: CallView; incident: IncidentView }).incident;
  };
  const queueCodes = () => page.locator('[data-testid="incident-item"]').evaluateAll((items) => items.map((i) => i.getAttribute("data-incident-code")).sort());

  it("shows the same state after the server restarts, including what changed while it was down", async () => {
    const first = await openIncident(platform, 10);
    const second = await openIncident(platform, 11);
    await expect.poll(queueCodes, { timeout: 5000 }).toEqual([first.code, second.code].sort());

    // Hold the console off the new server until the changes below are made: only the full re-fetch can show them.
    await page.route("**/socket.io/**", (route) => route.abort());
    const port = platform.httpPort;
    await platform.close();
    await page.locator('[data-testid="connection-status"][data-state="disconnected"]').waitFor({ timeout: 10_000 });

    platform = await startTestPlatform({ PORT: String(port) }, { database });
    expect(platform.httpPort).toBe(port);
    const cancelled = await platform.fetch(`/api/incidents/${first.id}/transitions`, {
      method: "POST",
      body: JSON.stringify({ to: "false_alarm", reason: "乘客已自行走出" }),
    });
    expect(cancelled.status).toBe(200);
    const third = await openIncident(platform, 12);
    await page.screenshot({ path: screenshotPath("console-disconnected") });

    await page.unroute("**/socket.io/**");
    await page.locator('[data-testid="connection-status"][data-state="connected"]').waitFor({ timeout: 15_000 });
    await expect.poll(queueCodes, { timeout: 5000 }).toEqual([second.code, third.code].sort());
    const open = await platform.db.prisma.incident.count({ where: { status: { notIn: ["closed", "cancelled", "false_alarm"] } } });
    expect(await page.locator('[data-testid="incident-item"]').count()).toBe(open);
    expect(await page.locator('[data-testid="open-count"]').textContent()).toBe(String(open));

    // Live again: a change now arrives by push, once.
    const fourth = await openIncident(platform, 13);
    await expect.poll(queueCodes, { timeout: 5000 }).toEqual([second.code, third.code, fourth.code].sort());
    await page.screenshot({ path: screenshotPath("console-reconnected") });
  });
});
