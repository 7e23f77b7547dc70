import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, Page } from "playwright-core";
import { startTestPlatform, type TestPlatform } from "../support/platform.ts";
import { connectDemoDevice } from "../support/clients.ts";
import { browserSkipReason, launchChromium, openConsole, screenshotPath, showOperations } from "../support/browser.ts";

const skip = browserSkipReason();

/** The dispatcher console in real Chromium: a device's trapped alarm appears without a reload. */
describe.skipIf(skip)("dispatcher console in Chromium", () => {
  let platform: TestPlatform;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    platform = await startTestPlatform();
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1600, height: 900 } });
    // No tile server is reachable in tests; fail fast instead of waiting on the network.
    await page.route(/^https?:\/\/(?!127\.0\.0\.1)/, (route) => route.abort());
  });
  afterAll(async () => {
    await browser?.close();
    await platform?.close();
  });

  it("shows Tianjin in Chinese with districts, teams and a live connection", async () => {
    await page.goto(platform.baseUrl);
    // Not signed in: the login form (zh-CN) comes first.
    await page.locator('[data-testid="login-form"]').waitFor({ state: "visible", timeout: 10_000 });
    expect(await page.locator('[data-testid="login-form"]').textContent()).toContain("用户名");
    await page.fill('[data-testid="login-username"]', "dispatcher");
    await page.fill('[data-testid="login-password"]', "demo96333");
    await page.click('[data-testid="login-submit"]');
    await expect.poll(() => page.getAttribute('[data-testid="connection-status"]', "data-state"), { timeout: 10_000 }).toBe("connected");
    expect(await page.getAttribute("html", "lang")).toBe("zh-CN");
    await expect.poll(() => page.locator("text=和平区").count()).toBeGreaterThan(0);
    await page.screenshot({ path: screenshotPath("console-idle") });
    // ? lists the shortcuts, Esc closes the list.
    await page.locator("body").focus();
    await page.keyboard.press("?");
    await page.locator('[data-testid="shortcut-help"]').waitFor({ state: "visible" });
    expect(await page.locator('[data-testid="shortcut-help"]').textContent()).toContain("派单");
    await page.keyboard.press("Escape");
    await page.locator('[data-testid="shortcut-help"]').waitFor({ state: "detached" });
    await expect.poll(() => page.locator(".leaflet-overlay-pane canvas").count()).toBeGreaterThan(0);
  });

  it("shows a device's trapped alarm in the queue within a second, without a reload", async () => {
    // The server has just started: let one alarm take the cold path (query compilation, first
    // transaction) so that the measured one shows the steady state a running centre sees.
    const warmUp = await connectDemoDevice(platform.mqttUrl, 12);
    await warmUp.waitForAck(warmUp.raiseAlarm("trapped", { passengers: true }), 10_000);
    await page.locator('[data-testid="incident-item"]').first().waitFor({ state: "visible", timeout: 10_000 });
    await warmUp.close();

    const device = await connectDemoDevice(platform.mqttUrl, 11);
    try {
      const { elevator } = await platform.db.prisma.device.findUniqueOrThrow({
        where: { id: device.deviceId },
        select: { elevator: { select: { id: true, rescueCode: true } } },
      });
      const navigations: string[] = [];
      page.on("framenavigated", (frame) => navigations.push(frame.url()));
      const announcedBefore = Number(await page.getAttribute('[data-testid="sound-toggle"]', "data-announced"));
      const published = Date.now();
      const alarmId = device.raiseAlarm("trapped", { floor: 5, passengers: true, inDoorZone: false });
      const item = page.locator('[data-testid="incident-item"]', { hasText: elevator!.rescueCode });
      await item.waitFor({ state: "visible", timeout: 5000 });
      const seenAfterMs = Date.now() - published;
      console.log(`incident visible ${seenAfterMs} ms after the device published`);
      await device.waitForAck(alarmId);
      const incident = await platform.db.prisma.incident.findFirstOrThrow({ where: { elevatorId: elevator!.id } });
      expect(await item.getAttribute("data-incident-code")).toBe(incident.code);
      await expect.poll(() => item.textContent()).toContain("困人");
      await expect.poll(() => item.getAttribute("data-status")).toBe("dispatched");
      expect(navigations).toEqual([]);
      // A new entrapment rings once (the sound itself is Web Audio; the count is what the page announced).
      expect(Number(await page.getAttribute('[data-testid="sound-toggle"]', "data-announced"))).toBe(announcedBefore + 1);
      expect(seenAfterMs).toBeLessThan(1000);
      await page.screenshot({ path: screenshotPath("console-incident") });
    } finally {
      await device.close();
    }
  });

  it("gives a supervisor and a company admin a read-only console without the call intake", async () => {
    // An incident of company1's own elevators, so both roles have one to open.
    const admin = await platform.db.prisma.user.findUniqueOrThrow({ where: { username: "company1" } });
    const lift = await platform.db.prisma.elevator.findFirstOrThrow({ where: { maintenanceCompanyId: admin.maintenanceCompanyId!, incidents: { none: {} } } });
    const res = await platform.fetch("/api/calls", {
      method: "POST",
      body: JSON.stringify({ callerNumber: "13500001111", elevatorId: lift.id, openIncident: true, autoDispatch: false }),
    });
    expect(res.status).toBe(201);
    for (const username of ["supervisor", "company1"]) {
      const other = await openConsole(browser, platform.baseUrl, username);
      try {
        expect(await other.getAttribute('[data-testid="toggle-supervision"]', "data-view")).toBe("supervision");
        await showOperations(other);
        expect(await other.getAttribute('[data-testid="current-user"]', "data-role")).toBe(username === "company1" ? "company_admin" : "supervisor");
        expect(await other.locator('[data-testid="tab-intake"]').count()).toBe(0);
        const item = other.locator('[data-testid="incident-item"]', { hasText: lift.rescueCode });
        await item.waitFor({ timeout: 5000 });
        await item.locator("button").first().click();
        await other.locator('[data-testid="detail-readonly-role"]').waitFor({ timeout: 5000 });
        expect(await other.locator('[data-testid="action-close"], [data-testid="candidate-dispatch"], [data-testid="dispatch-board"]').count()).toBe(0);
        // Nothing it may not read was asked for: no failed-load banner.
        await other.waitForTimeout(300);
        expect(await other.locator('[data-testid="error-banner"]').count(), username).toBe(0);
      } finally {
        await other.close();
      }
    }
  });

  it("sends a rescuer to the field app instead of a console full of refusals", async () => {
    const rescuer = await browser.newPage();
    try {
      await rescuer.route(/^https?:\/\/(?!127\.0\.0\.1)/, (route) => route.abort());
      await rescuer.goto(platform.baseUrl);
      await rescuer.fill('[data-testid="login-username"]', "rescuer1");
      await rescuer.fill('[data-testid="login-password"]', "demo96333");
      await rescuer.click('[data-testid="login-submit"]');
      await rescuer.locator('[data-testid="not-for-rescuers"]').waitFor({ timeout: 5000 });
      expect(await rescuer.locator('[data-testid="incident-item"], [data-testid="error-banner"]').count()).toBe(0);
    } finally {
      await rescuer.close();
    }
  });

  it("fits a laptop and a 1920x1080 wall screen: queue, map and work panel side by side, nothing cut off", async () => {
    for (const [name, viewport] of [
      ["laptop-1366x768", { width: 1366, height: 768 }],
      ["wall-1920x1080", { width: 1920, height: 1080 }],
    ] as const) {
      await page.setViewportSize(viewport);
      const layout = await page.evaluate(() => {
        const box = (selector: string) => document.querySelector(selector)?.getBoundingClientRect();
        const [queue, map, side, header] = [".queue", ".map", ".side", ".header"].map(box);
        return {
          overflowX: document.documentElement.scrollWidth - document.documentElement.clientWidth,
          overflowY: document.documentElement.scrollHeight - document.documentElement.clientHeight,
          queue: queue?.width ?? 0,
          map: map?.width ?? 0,
          side: side?.width ?? 0,
          headerBottom: header?.bottom ?? 0,
          headerRight: Math.max(...[...document.querySelectorAll(".header *")].map((el) => el.getBoundingClientRect().right)),
        };
      });
      expect(layout.overflowX, name).toBeLessThanOrEqual(0);
      expect(layout.overflowY, name).toBeLessThanOrEqual(0);
      expect(layout.queue, name).toBeGreaterThanOrEqual(300);
      expect(layout.side, name).toBeGreaterThanOrEqual(380);
      expect(layout.map, name).toBeGreaterThanOrEqual(500);
      expect(layout.headerRight, name).toBeLessThanOrEqual(viewport.width);
      await page.screenshot({ path: screenshotPath(`console-${name}`) });
    }
  });
});
