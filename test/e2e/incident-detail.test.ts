import { describe, expect, it } from "vitest";
import { consoleSuite } from "../support/console-suite.ts";
import { browserSkipReason, screenshotPath } from "../support/browser.ts";

const skip = browserSkipReason();

/**
 * A dispatcher works one entrapment from report to close in the console, by clicking and by keyboard,
 * and every step shows up live in the detail, the queue and the database.
 */
describe.skipIf(skip)("incident detail and dispatch board in Chromium", () => {
  const suite = consoleSuite();
  let incidentId: number;


  const detail = () => suite.page.locator('[data-testid="incident-detail"]');
  const entries = (type: string) => suite.page.locator(`[data-testid="timeline-entry"][data-type="${type}"]`);
  const waitForStatus = (status: string) =>
    suite.page.locator(`[data-testid="incident-detail"][data-status="${status}"]`).waitFor({ timeout: 10_000 });

  it("works an incident from report to close by clicking and by keyboard", async () => {
    const elevator = await suite.platform.db.prisma.elevator.findFirstOrThrow({ select: { rescueCode: true }, orderBy: { id: "asc" } });
    const res = await suite.platform.fetch("/api/calls", {
      method: "POST",
      body: JSON.stringify({ callerNumber: "13800001111", rescueCode: elevator.rescueCode, openIncident: true, autoDispatch: false }),
    });
    expect(res.status).toBe(201);
    const outcome = (await res.json()) as { incident: { id: number; code: string } | null };
    incidentId = outcome.incident!.id;

    const queueItem = suite.page.locator(`[data-testid="incident-item"][data-incident-id="${incidentId}"]`);
    await queueItem.waitFor({ timeout: 10_000 });
    await queueItem.locator("button").first().click();
    await suite.page.locator(`[data-testid="incident-detail"][data-incident-id="${incidentId}"]`).waitFor();
    await waitForStatus("reported");
    expect(await suite.page.getAttribute('[data-testid="detail-status"]', "data-status")).toBe("reported");
    await entries("reported").first().waitFor();
    await expect.poll(() => suite.page.locator('[data-testid="timeline-calls"]').textContent()).toContain("13800001111");

    // Dispatch the best-ranked candidate by hand.
    const candidate = suite.page.locator('[data-testid="candidate"]').first();
    await candidate.waitFor({ timeout: 10_000 });
    const teamId = Number(await candidate.getAttribute("data-team-id"));
    await candidate.locator('[data-testid="candidate-dispatch"]').click();
    await waitForStatus("dispatched");
    await expect.poll(() => queueItem.getAttribute("data-status")).toBe("dispatched");
    await suite.page.locator(`[data-testid="offer"][data-team-id="${teamId}"][data-status="offered"]`).waitFor();
    await entries("offer_made").first().waitFor();
    // With an offer out, the rows offer backup and reassignment instead of a second primary dispatch.
    await suite.page.locator('[data-testid="candidate-backup"]').first().waitFor();
    expect(await suite.page.locator('[data-testid="candidate-dispatch"]').count()).toBe(0);

    await suite.page.click('[data-testid="action-accept"]');
    await waitForStatus("accepted");
    await suite.page.click('[data-testid="action-depart"]');
    await waitForStatus("en_route");
    expect(await suite.page.inputValue('[data-testid="arrive-reason"]')).toBe("调度员电话确认到场");
    await suite.page.click('[data-testid="action-arrive"]');
    await waitForStatus("on_scene");
    await expect.poll(() => queueItem.getAttribute("data-status")).toBe("on_scene");
    expect(await suite.page.locator('[data-testid="dispatch-board"]').count()).toBe(0);
    await suite.page.click('[data-testid="action-release"]');
    await waitForStatus("released");

    // Keyboard: C records the passenger callback, M puts the cursor in the note.
    await suite.page.selectOption('[data-testid="callback-outcome"]', "reassured");
    await suite.page.locator("body").focus();
    await suite.page.keyboard.press("c");
    await entries("passenger_callback").first().waitFor({ timeout: 10_000 });
    expect(await entries("passenger_callback").first().textContent()).toContain("已安抚");
    await suite.page.keyboard.press("m");
    await expect.poll(() => suite.page.evaluate(() => document.activeElement?.getAttribute("data-testid"))).toBe("note-input");
    await suite.page.keyboard.type("乘客已安全离开轿厢，物业在场");
    await suite.page.click('[data-testid="note-save"]');
    await entries("note").filter({ hasText: "乘客已安全离开轿厢" }).waitFor({ timeout: 10_000 });
    // The socket's entry may come before the REST answer that clears the field.
    await expect.poll(() => suite.page.inputValue('[data-testid="note-input"]')).toBe("");
    await suite.page.fill('[data-testid="counts-trapped"]', "2");
    await suite.page.click('[data-testid="counts-save"]');
    await entries("counts").first().waitFor({ timeout: 10_000 });
    await expect.poll(() => suite.page.locator('[data-testid="incident-facts"]').textContent()).toContain("2 人");

    const labels = await suite.page.locator('[data-testid="timeline-entry"] .timeline__label').allTextContents();
    for (const label of ["接报", "派单", "接单", "出发", "到场", "解困", "回拨安抚", "备注", "人数更新"]) expect(labels).toContain(label);
    const intervals = await suite.page.locator('[data-testid="intervals"] [data-interval="arrivalS"] .interval__value').textContent();
    expect(intervals).toMatch(/^\d{2}:\d{2}$/);
    await suite.page.screenshot({ path: screenshotPath("incident-detail") });

    // Close with a cause: the incident leaves the queue and stays on screen read-only.
    await suite.page.click('[data-testid="action-close"]');
    await suite.page.selectOption('[data-testid="close-cause"]', "equipment");
    await suite.page.fill('[data-testid="close-cause-text"]', "门机控制板故障");
    await suite.page.click('[data-testid="close-submit"]');
    await waitForStatus("closed");
    await queueItem.waitFor({ state: "detached", timeout: 10_000 });
    await suite.page.locator('[data-testid="detail-readonly"]').waitFor();
    expect(await suite.page.locator('[data-testid="detail-cause"]').textContent()).toContain("设备故障");
    await entries("transition").filter({ hasText: "结案" }).waitFor();

    const stored = await suite.platform.db.prisma.incident.findUniqueOrThrow({ where: { id: incidentId } });
    expect(stored.status).toBe("closed");
    expect(stored.causeClass).toBe("equipment");
    expect(stored.causeText).toBe("门机控制板故障");
    expect(stored.trappedCount).toBe(2);
    await suite.page.screenshot({ path: screenshotPath("incident-detail-closed") });
  });

  it("shows a refused step inline and keeps what the dispatcher typed", async () => {
    const elevator = await suite.platform.db.prisma.elevator.findFirstOrThrow({ select: { rescueCode: true }, orderBy: { id: "desc" } });
    const res = await suite.platform.fetch("/api/calls", {
      method: "POST",
      body: JSON.stringify({ callerNumber: "13800002222", rescueCode: elevator.rescueCode, openIncident: true, autoDispatch: false }),
    });
    const id = ((await res.json()) as { incident: { id: number } }).incident.id;
    const queueItem = suite.page.locator(`[data-testid="incident-item"][data-incident-id="${id}"]`);
    await queueItem.locator("button").first().click();
    await waitForStatus("reported");

    // D sends the engine's recommendation.
    await suite.page.locator('[data-testid="candidate"]').first().waitFor({ timeout: 10_000 });
    await suite.page.locator("body").focus();
    await suite.page.keyboard.press("d");
    await waitForStatus("dispatched");

    // The team confirms in its own app: the detail follows without a reload.
    const offer = await suite.platform.db.prisma.dispatchOffer.findFirstOrThrow({ where: { incidentId: id, status: "offered" } });
    const accepted = await suite.platform.fetch(`/api/offers/${offer.id}/accept`, { method: "POST", body: "{}" });
    expect(accepted.status).toBe(200);
    await waitForStatus("accepted");
    await suite.page.locator(`[data-testid="offer"][data-offer-id="${offer.id}"][data-status="accepted"]`).waitFor();

    // The server refuses a note over 1000 characters: the message shows inline and the text stays.
    const longNote = "电".repeat(1001);
    await suite.page.fill('[data-testid="note-input"]', longNote);
    await suite.page.click('[data-testid="note-save"]');
    await suite.page.locator('[data-testid="note-error"]').waitFor({ timeout: 10_000 });
    expect(await suite.page.inputValue('[data-testid="note-input"]')).toBe(longNote);
    await suite.page.fill('[data-testid="note-input"]', "");

    // A false alarm needs a reason; the incident then ends and leaves the queue.
    await suite.page.click('[data-testid="action-false-alarm"]');
    expect(await suite.page.isDisabled('[data-testid="end-submit"]')).toBe(true);
    await suite.page.fill('[data-testid="end-reason"]', "来电人确认电梯已恢复");
    await suite.page.click('[data-testid="end-submit"]');
    await waitForStatus("false_alarm");
    await queueItem.waitFor({ state: "detached", timeout: 10_000 });
    await suite.page.locator('[data-testid="detail-readonly"]').waitFor();
    const stored = await suite.platform.db.prisma.incident.findUniqueOrThrow({ where: { id } });
    expect(stored.status).toBe("false_alarm");
  });

  it("lists every team with live counts and links a busy team to its incident", async () => {
    await suite.page.click('[data-testid="tab-teams"]');
    const rows = suite.page.locator('[data-testid="team-row"]');
    await rows.first().waitFor();
    const total = await suite.platform.db.prisma.team.count();
    await expect.poll(() => rows.count()).toBe(total);

    // Teams freed by the previous incident may still be arriving: compare the chip's count with the rows it shows.
    const availableChip = suite.page.locator('[data-testid="team-filter"][data-status="available"]');
    await availableChip.click();
    await expect.poll(async () => (await rows.count()) - Number(await availableChip.getAttribute("data-count"))).toBe(0);
    expect(await suite.page.locator('[data-testid="team-row"]:not([data-status="available"])').count()).toBe(0);
    await suite.page.click('[data-testid="team-filter-all"]');

    const someTeam = await suite.platform.db.prisma.team.findFirstOrThrow({ select: { name: true }, orderBy: { id: "asc" } });
    await suite.page.fill('[data-testid="team-search"]', someTeam.name);
    await expect.poll(() => suite.page.locator('[data-testid="team-row"]', { hasText: someTeam.name }).count()).toBeGreaterThan(0);
    await suite.page.fill('[data-testid="team-search"]', "");

    // A fresh incident sent to a team shows on the team's row; clicking it opens the incident.
    const elevator = await suite.platform.db.prisma.elevator.findFirstOrThrow({ select: { rescueCode: true }, skip: 5, orderBy: { id: "asc" } });
    const res = await suite.platform.fetch("/api/calls", {
      method: "POST",
      body: JSON.stringify({ callerNumber: "13800003333", rescueCode: elevator.rescueCode, openIncident: true, autoDispatch: true }),
    });
    const id = ((await res.json()) as { incident: { id: number } }).incident.id;
    const link = suite.page.locator(`[data-testid="team-incident"][data-incident-id="${id}"]`).first();
    await link.waitFor({ timeout: 10_000 });
    await suite.page.screenshot({ path: screenshotPath("team-board") });
    await link.click();
    await suite.page.locator(`[data-testid="incident-detail"][data-incident-id="${id}"]`).waitFor();

    // The 1366x768 laptop: the side panel shrinks to 400 px; the detail still fits without sideways scrolling.
    await suite.page.setViewportSize({ width: 1366, height: 768 });
    await suite.page.locator('[data-testid="candidate"]').first().waitFor({ timeout: 10_000 });
    const overflow = await suite.page.evaluate(() => {
      const body = document.querySelector<HTMLElement>(".side__body")!;
      return body.scrollWidth - body.clientWidth;
    });
    expect(overflow).toBeLessThanOrEqual(0);
    await suite.page.screenshot({ path: screenshotPath("incident-detail-laptop") });

    // English is the second language: the same screen, every label translated.
    await suite.page.locator('[data-testid="language-switch"] button[lang="en"]').click();
    await expect.poll(() => suite.page.locator('[data-testid="incident-detail"]').textContent()).toContain("Candidate teams");
    expect(await suite.page.locator('[data-testid="incident-detail"]').textContent()).not.toMatch(/detail\.|dispatch\./);
    await suite.page.screenshot({ path: screenshotPath("incident-detail-en") });
    await suite.page.locator('[data-testid="language-switch"] button[lang="zh-CN"]').click();
  });
});
