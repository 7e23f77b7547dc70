import { describe, expect, it } from "vitest";
import { consoleSuite } from "../support/console-suite.ts";
import { sendTelephony } from "../support/clients.ts";
import { browserSkipReason, openConsole, screenshotPath, showOperations } from "../support/browser.ts";

const skip = browserSkipReason();
const SECRET = "e2e-shift-telephony-secret";

/** The second hour of a shift: events out of order, a crowded intake, a call already in an incident, a supervisor's look. */
describe.skipIf(skip)("console through a shift in Chromium", () => {
  const suite = consoleSuite({ TELEPHONY_SECRET: SECRET });
  const testid = (id: string) => suite.page.locator(`[data-testid="${id}"]`);
  const row = (callId: number) => suite.page.locator(`[data-testid="call-row"][data-call-id="${callId}"]`);

  it("a call answered while its incident is being opened shows talking, joins the incident and leaves the intake's way", async () => {
    const lift = await suite.platform.db.prisma.elevator.findFirstOrThrow({ orderBy: { id: "asc" }, skip: 40 });
    // The PBX's answer overtakes its ringing.
    await sendTelephony(suite.platform.baseUrl, SECRET, { event: "answered", callId: "shift-1", callerNumber: "13700000001", at: new Date(Date.now() - 800).toISOString() });
    await sendTelephony(suite.platform.baseUrl, SECRET, { event: "ringing", callId: "shift-1", callerNumber: "13700000001", at: new Date(Date.now() - 2000).toISOString() });
    const call = await suite.platform.db.prisma.call.findFirstOrThrow({ where: { externalId: "shift-1" } });
    await expect.poll(() => row(call.id).getAttribute("data-state"), { timeout: 5000 }).toBe("answered");

    await row(call.id).click();
    await testid("intake-code").fill(lift.rescueCode);
    await testid("elevator-card").waitFor({ timeout: 5000 });
    await testid("intake-code").press("Enter");
    await expect.poll(() => testid("side-panel").getAttribute("data-panel"), { timeout: 5000 }).toBe("incident");

    // Hold and resume arrive out of order too; the row follows the latest of them.
    const now = Date.now();
    await sendTelephony(suite.platform.baseUrl, SECRET, { event: "resumed", callId: "shift-1", at: new Date(now - 100).toISOString() });
    await sendTelephony(suite.platform.baseUrl, SECRET, { event: "held", callId: "shift-1", at: new Date(now - 500).toISOString() });
    await suite.page.keyboard.press("1");
    // Collapsed under its incident: not among the calls still to handle.
    await expect.poll(() => row(call.id).count(), { timeout: 5000 }).toBe(0);
    await testid("handled-toggle").click();
    expect(await row(call.id).getAttribute("data-state")).toBe("answered");
    expect(await row(call.id).getAttribute("data-handled")).toBe("true");

    // Selecting it again offers nothing to join: it says where it went, in Chinese.
    await row(call.id).click();
    await testid("linked-call").waitFor({ timeout: 5000 });
    expect(await testid("open-incident").count()).toBe(0);
    expect(await testid("linked-call").textContent()).toMatch(/已并入事件/);

    // The server's 409 for joining twice reads in Chinese, from its id.
    const text = await suite.page.evaluate(async (id) => {
      const res = await fetch(`/api/calls/${id}/incident`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ elevatorId: 1 }) });
      return { status: res.status, body: (await res.json()) as { error: { id: string } } };
    }, call.id);
    expect(text.status).toBe(409);
    expect(text.body.error.id).toBe("call_already_linked");
  });

  it("an address with no hit says why; a match names its district and marks an open incident", async () => {
    await suite.page.keyboard.press("Escape");
    await testid("manual-call").click();
    await testid("manual-caller-number").fill("13700000002");
    await testid("intake-code").fill("完全不存在的地址xyz");
    const hint = testid("intake-not-found");
    await hint.waitFor({ timeout: 5000 });
    expect(await hint.getAttribute("data-hint")).toBe("no_text_match");
    expect(await hint.textContent()).toContain("没有与");

    const open = await suite.platform.db.prisma.incident.findFirstOrThrow({ include: { elevator: { include: { site: true } } } });
    await testid("intake-code").fill(open.elevator.site.name);
    const marked = suite.page.locator('[data-testid="lookup-match"]', { has: suite.page.locator('[data-testid="match-open-incident"]') });
    await marked.first().waitFor({ timeout: 5000 });
    expect(await suite.page.locator('[data-testid="match-district"]').first().textContent()).not.toBe("");
  });

  it("50 live calls at 1920x1080: the intake stays whole and the newest unhandled call is on top", async () => {
    const page = await openConsole(suite.browser, suite.platform.baseUrl, "dispatcher", { width: 1920, height: 1080 });
    try {
      for (let i = 0; i < 50; i++) {
        await sendTelephony(suite.platform.baseUrl, SECRET, { event: "ringing", callId: `crowd-${i}`, callerNumber: `1360000${String(i).padStart(4, "0")}`, at: new Date(Date.now() - (50 - i) * 1000).toISOString() });
      }
      await expect.poll(() => page.locator('[data-testid="call-list"] [data-testid="call-row"]').count(), { timeout: 15_000 }).toBeGreaterThanOrEqual(50);
      const first = page.locator('[data-testid="call-list"] .call-list__open [data-testid="call-row"]').first();
      expect(await first.textContent()).toContain("13600000049");
      await first.click();
      const code = page.locator('[data-testid="intake-code"]');
      const box = await code.boundingBox();
      expect(box).not.toBeNull();
      expect(box!.y).toBeGreaterThan(0);
      expect(box!.y + box!.height).toBeLessThan(1080 * 0.6);
      const lift = await suite.platform.db.prisma.elevator.findFirstOrThrow({ orderBy: { id: "asc" }, skip: 70 });
      await code.fill(lift.rescueCode);
      await page.locator('[data-testid="intake-trapped"]').waitFor({ timeout: 5000 });
      const trapped = await page.locator('[data-testid="intake-trapped"]').boundingBox();
      const button = await page.locator('[data-testid="open-incident"]').boundingBox();
      // Open button fully on screen and below the trapped count, not squeezed under it.
      expect(button!.y + button!.height).toBeLessThanOrEqual(1080);
      expect(trapped!.y + trapped!.height).toBeLessThanOrEqual(button!.y + button!.height);
      await page.screenshot({ path: screenshotPath("intake-50-calls") });
    } finally {
      await page.close();
    }
  }, 120_000);

  it("a supervisor opening an incident sees its deadline and its deadline state", async () => {
    const page = await openConsole(suite.browser, suite.platform.baseUrl, "supervisor");
    try {
      await showOperations(page);
      const incident = await suite.platform.db.prisma.incident.findFirstOrThrow({ orderBy: { id: "asc" } });
      await page.locator(`[data-testid="incident-item"][data-incident-code="${incident.code}"]`).click();
      const deadline = page.locator('[data-testid="supervision-deadline"]');
      await deadline.waitFor({ timeout: 5000 });
      expect(await deadline.textContent()).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}$/);
      expect(await page.locator('[data-testid="supervision"]').getAttribute("data-sla-state")).toMatch(/^(ok|warning|overdue|missed|met)$/);
      expect(await page.locator('[data-testid="supervision-state"]').textContent()).toMatch(/[\u4e00-\u9fff]/);
      // No raw code in any timeline entry.
      const entries = await page.locator('[data-testid="timeline-entry"]').allTextContents();
      expect(entries.length).toBeGreaterThan(0);
      for (const entry of entries) expect(entry).not.toMatch(/\b[a-z]+_[a-z_]+\b|队伍 \d+/);
    } finally {
      await page.close();
    }
  }, 90_000);
});
