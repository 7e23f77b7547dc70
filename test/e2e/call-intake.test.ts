import { describe, expect, it } from "vitest";
import { consoleSuite } from "../support/console-suite.ts";
import { connectDemoDevice, sendTelephony } from "../support/clients.ts";
import { browserSkipReason, screenshotPath } from "../support/browser.ts";

const skip = browserSkipReason();
const SECRET = "e2e-telephony-secret";
const CALLER = "13912345678";

/** A call from the PBX pops up on the console, is identified by its rescue code and becomes an incident. */
describe.skipIf(skip)("call intake in Chromium", () => {
  const suite = consoleSuite({ TELEPHONY_SECRET: SECRET });

  const testid = (id: string) => suite.page.locator(`[data-testid="${id}"]`);

  it("takes a call from ringing to closed: pop-up with history, elevator card with live status, incident with Enter, dispatch, accept, close", async () => {
    const device = await connectDemoDevice(suite.platform.mqttUrl, 21);
    try {
      const { elevator } = await suite.platform.db.prisma.device.findUniqueOrThrow({
        where: { id: device.deviceId },
        select: { elevator: { include: { maintenanceCompany: true } } },
      });
      const lift = elevator!;
      // The same number called about this elevator before: the intake shows it as history.
      const earlier = await suite.platform.fetch("/api/calls", { method: "POST", body: JSON.stringify({ callerNumber: CALLER, rescueCode: lift.rescueCode, endedAt: new Date().toISOString() }) });
      expect(earlier.status).toBe(201);

      const ringing = await sendTelephony(suite.platform.baseUrl, SECRET, { event: "ringing", callId: "pbx-e2e-1", callerNumber: CALLER, line: "96333-1" });
      expect(ringing.status).toBe(200);
      await expect.poll(() => testid("caller-number").textContent(), { timeout: 5000 }).toBe(CALLER);
      expect(await testid("side-panel").getAttribute("data-panel")).toBe("intake");
      expect(await testid("call-head").getAttribute("data-state")).toBe("ringing");
      await expect.poll(() => testid("caller-history").getAttribute("data-count")).toBe("1");
      expect(await testid("caller-history").textContent()).toContain(lift.rescueCode);

      await sendTelephony(suite.platform.baseUrl, SECRET, { event: "answered", callId: "pbx-e2e-1", agent: "dispatcher" });
      await expect.poll(() => testid("call-head").getAttribute("data-state")).toBe("answered");

      // The code field has the focus when the call pops: the dispatcher just types.
      await suite.page.keyboard.type(lift.rescueCode);
      const card = testid("elevator-card");
      await card.waitFor({ state: "visible", timeout: 5000 });
      expect(await card.getAttribute("data-rescue-code")).toBe(lift.rescueCode);
      expect(await testid("elevator-floors").textContent()).toContain(String(lift.floors));
      expect(await testid("elevator-company").textContent()).toBe(lift.maintenanceCompany.name);
      expect(await testid("elevator-last-maintenance").textContent()).toMatch(/^\d{4}/);
      await expect.poll(() => testid("elevator-live").getAttribute("data-state"), { timeout: 5000 }).toBe("online");
      await suite.page.screenshot({ path: screenshotPath("call-intake") });

      await suite.page.keyboard.press("Enter");
      const item = suite.page.locator('[data-testid="incident-item"]', { hasText: lift.rescueCode });
      await item.waitFor({ state: "visible", timeout: 5000 });
      const incident = await suite.platform.db.prisma.incident.findFirstOrThrow({ where: { elevatorId: lift.id } });
      expect(incident.source).toBe("call");
      expect(await item.getAttribute("data-incident-code")).toBe(incident.code);
      await expect.poll(() => testid("side-panel").getAttribute("data-panel")).toBe("incident");
      expect(await testid("incident-detail").getAttribute("data-incident-id")).toBe(String(incident.id));
      const call = await suite.platform.db.prisma.call.findFirstOrThrow({ where: { externalId: "pbx-e2e-1" } });
      expect(call.incidentId).toBe(incident.id);

      // Hanging up after the incident is open takes the call out of the intake.
      await sendTelephony(suite.platform.baseUrl, SECRET, { event: "ended", callId: "pbx-e2e-1" });
      await expect.poll(() => suite.page.locator(`[data-testid="call-row"][data-call-id="${call.id}"]`).count()).toBe(0);

      // The engine offered the nearest team; the team confirms by phone and the dispatcher records it,
      // then arrival, release and close — all without leaving the console.
      const status = () => testid("incident-detail").getAttribute("data-status");
      await expect.poll(status, { timeout: 10_000 }).toBe("dispatched");
      await suite.page.locator('[data-testid="offer"][data-status="offered"]').waitFor({ timeout: 5000 });
      await suite.page.locator("body").focus();
      await suite.page.keyboard.press("a");
      await expect.poll(status, { timeout: 5000 }).toBe("accepted");
      await testid("action-arrive").click();
      await expect.poll(status, { timeout: 5000 }).toBe("on_scene");
      await testid("action-release").click();
      await expect.poll(status, { timeout: 5000 }).toBe("released");
      await suite.page.locator("body").focus();
      await suite.page.keyboard.press("e");
      await suite.page.selectOption('[data-testid="close-cause"]', "external");
      await testid("close-submit").click();
      await expect.poll(status, { timeout: 5000 }).toBe("closed");
      await item.waitFor({ state: "detached", timeout: 5000 });
      const closed = await suite.platform.db.prisma.incident.findUniqueOrThrow({ where: { id: incident.id } });
      expect(closed.status).toBe("closed");
      expect(closed.causeClass).toBe("external");
      expect(closed.acceptedAt).not.toBeNull();
      const timelineTypes = await suite.page.locator('[data-testid="timeline-entry"]').evaluateAll((els) => els.map((e) => e.getAttribute("data-type")));
      expect(timelineTypes).toEqual(expect.arrayContaining(["reported", "offer_made", "offer_accepted", "team_arrived"]));
      expect(await testid("timeline-calls").textContent()).toContain(CALLER);
      await suite.page.screenshot({ path: screenshotPath("call-to-close") });
    } finally {
      await device.close();
    }
  });

  it("offers close matches for a misheard code and a manual call opens its incident", async () => {
    const lift = await suite.platform.db.prisma.elevator.findFirstOrThrow({ where: { incidents: { none: {} } }, orderBy: { id: "desc" } });
    let misheard = lift.rescueCode;
    for (let d = 0; d <= 9; d++) {
      const candidate = lift.rescueCode.slice(0, 5) + String(d);
      if (!(await suite.platform.db.prisma.elevator.findUnique({ where: { rescueCode: candidate } }))) {
        misheard = candidate;
        break;
      }
    }
    expect(misheard).not.toBe(lift.rescueCode);

    // N: a call entered by hand, the caller's number field takes the typing.
    await suite.page.keyboard.press("Escape");
    await suite.page.keyboard.press("n");
    await expect.poll(() => suite.page.evaluate(() => document.activeElement?.getAttribute("data-testid"))).toBe("manual-caller-number");
    await suite.page.keyboard.type("022-23456789");
    await testid("intake-code").fill(misheard);
    await testid("intake-not-found").waitFor({ state: "visible", timeout: 5000 });
    const match = suite.page.locator(`[data-testid="lookup-match"][data-rescue-code="${lift.rescueCode}"]`);
    await match.waitFor({ state: "visible", timeout: 5000 });
    await match.click();
    await expect.poll(() => testid("elevator-card").getAttribute("data-rescue-code"), { timeout: 5000 }).toBe(lift.rescueCode);
    await testid("intake-trapped").fill("2");
    await testid("open-incident").click();
    await suite.page.locator('[data-testid="incident-item"]', { hasText: lift.rescueCode }).waitFor({ state: "visible", timeout: 5000 });
    const incident = await suite.platform.db.prisma.incident.findFirstOrThrow({ where: { elevatorId: lift.id } });
    expect(incident.trappedCount).toBe(2);
    const call = await suite.platform.db.prisma.call.findFirstOrThrow({ where: { incidentId: incident.id } });
    expect(call.callerNumber).toBe("02223456789");
  });
});
