import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, Page } from "playwright-core";
import { startTestPlatform, type TestPlatform } from "../support/platform.ts";
import { browserSkipReason, launchChromium, openConsole, screenshotPath } from "../support/browser.ts";
import { loadDemoHistory } from "../../server/seed/history.ts";
import type { FiguresView } from "../../server/contracts/analytics.ts";

const skip = browserSkipReason();

/**
 * The regulator opens the supervision screen on a year of demo history, filters a district, drills down
 * to an incident's timeline, and the monthly bulletin (page and PDF) prints the numbers the screen shows.
 */
describe.skipIf(skip)("supervision screen in Chromium", () => {
  let platform: TestPlatform;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    platform = await startTestPlatform();
    const now = Date.now() + 8 * 3600_000;
    const until = new Date(Math.floor(now / 86_400_000) * 86_400_000 - 8 * 3600_000);
    await loadDemoHistory(platform.db.prisma, { months: 12, until, raw: platform.db.raw });
    browser = await launchChromium();
    page = await openConsole(browser, platform.baseUrl, "supervisor");
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await platform?.close();
  });

  const text = async (testId: string) => (await page.locator(`[data-testid="${testId}"]`).textContent())?.trim() ?? "";
  const minutes = (s: number | null) => (s === null ? "—" : (s / 60).toFixed(1));

  it("filters a district, drills down to an incident and its timeline; the bulletin shows the same figures", async () => {
    await page.locator('[data-testid="supervision-screen"]').waitFor({ timeout: 15_000 });
    // The last full month, so the bulletin and the screen cover the same period.
    const lastMonth = new Date(Date.now() + 8 * 3600_000);
    lastMonth.setUTCDate(1);
    lastMonth.setUTCMonth(lastMonth.getUTCMonth() - 1);
    const month = lastMonth.toISOString().slice(0, 7);
    await page.fill('[data-testid="sv-from"]', month);
    await page.fill('[data-testid="sv-to"]', month);

    const city = (await (await platform.fetch(`/api/analytics/figures?from=${month}&to=${month}`, {}, "supervisor")).json()) as FiguresView;
    const all = city.rows[0]!;
    expect(all.reported).toBeGreaterThan(20);
    await expect.poll(() => text("kpi-reported"), { timeout: 15_000 }).toBe(String(all.reported));
    await expect.poll(() => text("kpi-arrival-median")).toBe(minutes(all.intervals.arrivalS.median));
    await page.locator('[data-testid="sv-map"] canvas').first().waitFor();
    await page.locator('[data-testid="sv-trend"] canvas').first().waitFor();
    expect(await text("sv-formula")).toContain("0.5 × 到场及时率");

    // The bulletin of that month prints the same key figures as the screen.
    const bulletin = await platform.fetch(`/api/analytics/bulletin/${month}`, {}, "supervisor");
    expect(bulletin.status).toBe(200);
    const html = await bulletin.text();
    expect(html).toContain(`data-figure="reported">${await text("kpi-reported")}<`);
    expect(html).toContain(`data-figure="arrival-median">${await text("kpi-arrival-median")}<`);
    expect(html).toContain(`data-figure="on-time">${await text("kpi-on-time")}<`);
    const pdf = await platform.fetch(`/api/analytics/bulletin/${month}.pdf`, {}, "supervisor");
    expect(pdf.status).toBe(200);
    expect(pdf.headers.get("content-type")).toContain("application/pdf");
    const bytes = Buffer.from(await pdf.arrayBuffer());
    expect(bytes.subarray(0, 5).toString()).toBe("%PDF-");

    // Filter one district: the key figures follow it.
    const district = await platform.db.prisma.district.findFirstOrThrow({ where: { central: true }, orderBy: { id: "asc" } });
    await page.selectOption('[data-testid="sv-district"]', String(district.id));
    const one = ((await (await platform.fetch(`/api/analytics/figures?from=${month}&to=${month}&district=${district.id}`, {}, "supervisor")).json()) as FiguresView).rows[0]!;
    expect(one.reported).toBeLessThan(all.reported);
    await expect.poll(() => text("kpi-reported"), { timeout: 15_000 }).toBe(String(one.reported));

    // Drill down: the district's row, its incidents, one incident's timeline.
    const row = page.locator(`[data-testid="sv-figure-${district.id}"]`);
    await row.waitFor({ timeout: 15_000 });
    await row.click();
    const drill = page.locator('[data-testid="sv-drill"]');
    await drill.waitFor();
    const firstIncident = drill.locator('[data-testid^="sv-incident-"]').first();
    await firstIncident.waitFor({ timeout: 15_000 });
    expect(await drill.locator('[data-testid^="sv-incident-"]').count()).toBe(Math.min(one.reported, 200));
    await firstIncident.click();
    await page.locator('[data-testid="sv-timeline"] li').first().waitFor({ timeout: 15_000 });
    expect(await page.locator('[data-testid="sv-timeline"]').textContent()).toContain("已接报");
    await page.screenshot({ path: screenshotPath("supervision"), fullPage: true });
  }, 120_000);
});
