import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestPlatform, type TestPlatform } from "../support/platform.ts";
import { connectConsole } from "../support/clients.ts";
import { openOrAttachIncident } from "../../server/incidents/repository/writes.ts";
import type { SlaAlertView } from "../../server/contracts/index.ts";

/**
 * A deadline whose check fails every time (here a row whose offer reference is out of range for the offers table) is not given
 * up after N tries: the centre's dispatchers get an escalation naming the incident, the relay keeps
 * retrying, and health shows the follow-up failing.
 */
describe("faults: a deadline check that keeps failing", () => {
  let platform: TestPlatform;

  beforeAll(async () => {
    platform = await startTestPlatform({ SLA_TICK_MS: "100", OUTBOX_ESCALATE_AFTER: "2" });
  });
  afterAll(async () => {
    await platform?.close();
  });

  it("is escalated to the dispatchers and still retried", async () => {
    const prisma = platform.db.prisma;
    const elevator = await prisma.elevator.findFirstOrThrow({ orderBy: { id: "asc" }, skip: 23 });
    const { incidentId } = await prisma.$transaction((tx) =>
      openOrAttachIncident(tx, { elevatorId: elevator.id, kind: "entrapment", source: "manual", reportedAt: new Date(), actor: { type: "system", id: "test" } }),
    );
    const incident = await prisma.incident.findUniqueOrThrow({ where: { id: incidentId } });
    const consoleClient = await connectConsole(platform.baseUrl);
    try {
      await prisma.slaDeadline.create({ data: { incidentId, kind: "offer_timeout", dueAt: new Date(), data: { offerId: 99_999_999_999 } } });
      const alert = await consoleClient.waitFor<SlaAlertView>("sla:escalated", (a) => a.incidentId === incidentId && a.reason === "follow_up_failing", 20_000);
      expect(alert.payload).toMatchObject({ incidentCode: incident.code, kind: "escalated", audience: ["dispatcher", "supervisor"] });
      expect(alert.payload.detail).toMatch(/deadline check .* failed 2 times, still retrying/);

      // Never dropped: the row stays and is tried again (the next escalation comes after as many failures).
      const row = () => prisma.outboxEvent.findFirst({ where: { topic: "deadline.due" }, orderBy: { id: "desc" } });
      await expect.poll(async () => (await row())?.attempts ?? 0, { timeout: 20_000, interval: 100 }).toBeGreaterThanOrEqual(3);
      expect(platform.relay.counters.escalated).toBeGreaterThanOrEqual(1);
      const health = (await (await fetch(`${platform.baseUrl}/api/health`)).json()) as { outbox: { failing: number; escalated: number }; degradedReasons: string[] };
      expect(health.outbox.failing).toBeGreaterThanOrEqual(1);
      expect(health.degradedReasons).toContain("follow-ups late or failing");
    } finally {
      consoleClient.close();
    }
  }, 60_000);
});
