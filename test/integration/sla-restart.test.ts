import { afterAll, describe, expect, it } from "vitest";
import { startTestPlatform, type TestPlatform } from "../support/platform.ts";
import { createTestDatabase, type TestDatabase } from "../support/database.ts";
import { connectConsole } from "../support/clients.ts";
import { openOrAttachIncident } from "../../server/incidents/repository/writes.ts";
import type { SlaAlertView } from "../../server/contracts/index.ts";

const OFFER_TIMEOUT_S = 6;

/**
 * "Nothing time-based lives only in memory": an offer is made, the server stops before its timeout and
 * before the arrival deadline, a new server process starts on the same database, and the expiry (next
 * team offered) and the escalation (next tier, alert to supervisors) still happen on time.
 */
describe("SLA deadlines survive a restart", () => {
  let database: TestDatabase;
  let platform: TestPlatform | null = null;

  const start = () =>
    startTestPlatform({ OFFER_TIMEOUT_S: String(OFFER_TIMEOUT_S), SLA_TICK_MS: "100" }, { database });

  afterAll(async () => {
    await platform?.stop();
    await database?.drop();
  });

  it("expires the offer and escalates on time after the server was restarted in between", async () => {
    database = await createTestDatabase();
    platform = await start();
    const prisma = () => platform!.db.prisma;

    const elevator = await prisma().elevator.findFirstOrThrow({ orderBy: { id: "asc" }, skip: 17 });
    const { incidentId } = await prisma().$transaction((tx) =>
      openOrAttachIncident(tx, { elevatorId: elevator.id, kind: "entrapment", source: "manual", reportedAt: new Date(), actor: { type: "system", id: "test" } }),
    );
    const firstOfferId = (await platform.dispatch.offers.autoDispatch(incidentId))!;
    expect(firstOfferId).not.toBeNull();
    const first = await prisma().dispatchOffer.findUniqueOrThrow({ where: { id: firstOfferId } });
    // Bring the arrival deadline close, so the escalation also falls after the restart (rows are the truth).
    const arrivalDue = new Date(first.expiresAt.getTime() + 2000);
    await prisma().incident.update({ where: { id: incidentId }, data: { arrivalDeadlineAt: arrivalDue } });
    await prisma().slaDeadline.updateMany({ where: { incidentId, kind: "arrival" }, data: { dueAt: arrivalDue } });

    await platform.stop();
    platform = null;
    expect(Date.now()).toBeLessThan(first.expiresAt.getTime()); // stopped between offer and deadline

    platform = await start();
    const consoleClient = await connectConsole(`http://127.0.0.1:${platform.httpPort}`);
    try {
      await expect
        .poll(async () => (await prisma().dispatchOffer.findUniqueOrThrow({ where: { id: firstOfferId } })).status, { timeout: 15_000, interval: 100 })
        .toBe("expired");
      // firedAt is written when the deadline is handed to the outbox, in the same transaction.
      const expiryRow = () =>
        prisma().slaDeadline.findFirstOrThrow({ where: { incidentId, kind: "offer_timeout", data: { path: ["offerId"], equals: firstOfferId } } });
      await expect.poll(async () => (await expiryRow()).firedAt, { timeout: 5000, interval: 50 }).not.toBeNull();
      const expiry = await expiryRow();
      const lateMs = expiry.firedAt!.getTime() - first.expiresAt.getTime();
      expect(lateMs).toBeGreaterThanOrEqual(0);
      expect(lateMs).toBeLessThan(1500);
      const expiredAt = (await prisma().dispatchOffer.findUniqueOrThrow({ where: { id: firstOfferId } })).respondedAt!;
      expect(expiredAt.getTime() - first.expiresAt.getTime()).toBeLessThan(1500);
      // The next team was offered and the first one freed.
      const nextOffer = () => prisma().dispatchOffer.findFirst({ where: { incidentId, id: { not: firstOfferId }, backup: false } });
      await expect.poll(nextOffer, { timeout: 5000, interval: 50 }).not.toBeNull();
      const next = (await nextOffer())!;
      expect(next.teamId).not.toBe(first.teamId);
      expect(platform.dispatch.teams.view(first.teamId)!.status).toBe("available");

      const escalated = await consoleClient.waitFor<SlaAlertView>("sla:escalated", (a) => a.incidentId === incidentId && a.reason === "deadline_missed", 10_000);
      expect(escalated.at - arrivalDue.getTime()).toBeLessThan(1500);
      expect(escalated.payload.audience).toContain("supervisor");
      expect(escalated.payload.escalatedToTier).toBeGreaterThan(next.tier);
      const breachRow = () => prisma().slaDeadline.findFirstOrThrow({ where: { incidentId, kind: "arrival" } });
      await expect.poll(async () => (await breachRow()).firedAt, { timeout: 5000, interval: 50 }).not.toBeNull();
      expect((await breachRow()).firedAt!.getTime() - arrivalDue.getTime()).toBeLessThan(2500);

      const types = (await prisma().incidentEvent.findMany({ where: { incidentId }, orderBy: { id: "asc" } })).map((e) => e.type);
      expect(types.indexOf("offer_expired")).toBeGreaterThan(types.indexOf("offer_made"));
      expect(types).toContain("sla_breached");
      expect(types.indexOf("sla_escalated")).toBeGreaterThan(types.indexOf("sla_breached"));
      // Each deadline acted on once, whatever the number of restarts.
      expect(types.filter((t) => t === "offer_expired")).toHaveLength(1);
      expect(types.filter((t) => t === "sla_breached")).toHaveLength(1);
    } finally {
      consoleClient.close();
    }
  });

  it("warns early when the estimate misses the deadline and adds the next tier as a backup", async () => {
    const prisma = platform!.db.prisma;
    const consoleClient = await connectConsole(`http://127.0.0.1:${platform!.httpPort}`);
    try {
      const elevator = await prisma.elevator.findFirstOrThrow({ orderBy: { id: "asc" }, skip: 41 });
      const { incidentId } = await prisma.$transaction((tx) =>
        openOrAttachIncident(tx, { elevatorId: elevator.id, kind: "entrapment", source: "manual", reportedAt: new Date(), actor: { type: "system", id: "test" } }),
      );
      const offerId = (await platform!.dispatch.offers.autoDispatch(incidentId))!;
      const offer = await prisma.dispatchOffer.findUniqueOrThrow({ where: { id: offerId } });
      // A deadline 20 s away cannot be met by a team minutes away: the check due now must say so.
      const deadline = new Date(Date.now() + 20_000);
      await prisma.incident.update({ where: { id: incidentId }, data: { arrivalDeadlineAt: deadline } });
      await prisma.slaDeadline.updateMany({ where: { incidentId, kind: "arrival_warning", firedAt: null }, data: { dueAt: new Date() } });
      const warning = await consoleClient.waitFor<SlaAlertView>("sla:warning", (a) => a.incidentId === incidentId, 5000);
      expect(warning.payload.reason).toBe("estimate_misses_deadline");
      expect(new Date(warning.payload.estimatedArrivalAt!).getTime()).toBeGreaterThan(deadline.getTime());
      const escalated = await consoleClient.waitFor<SlaAlertView>("sla:escalated", (a) => a.incidentId === incidentId, 5000);
      expect(escalated.payload.escalatedToTier).toBeGreaterThan(offer.tier);
      const backup = await prisma.dispatchOffer.findFirstOrThrow({ where: { incidentId, backup: true } });
      expect(backup.status).toBe("offered");
      expect((await prisma.dispatchOffer.findUniqueOrThrow({ where: { id: offerId } })).status).toBe("offered"); // kept, not replaced
      const types = (await prisma.incidentEvent.findMany({ where: { incidentId }, orderBy: { id: "asc" } })).map((e) => e.type);
      expect(types.slice(-3)).toEqual(["sla_warning", "offer_made", "sla_escalated"]);
    } finally {
      consoleClient.close();
    }
  });
});
