import { Prisma } from "../platform/db/generated/client.ts";
import type { UnitOfWork } from "../platform/outbox/unit-of-work.ts";
import type { AlarmPayload } from "../devices/protocol.ts";
import { defaultFlapPolicy, type FlapPolicy } from "./catalogue.ts";
import { storeAlarm, type AlarmOutcome } from "./repository.ts";


const isUniqueViolation = (error: unknown) =>
  error instanceof Prisma.PrismaClientKnownRequestError && error.code === "P2002";

/**
 * Stores one alarm message and, when the catalogue says so, opens or joins the elevator's incident, all in
 * one transaction: the caller acknowledges the device only after this resolves.
 */
export async function recordAlarm(
  uow: UnitOfWork,
  input: { deviceId: string; elevatorId: number | null; payload: AlarmPayload; receivedAt: Date },
  options: { flap?: FlapPolicy; mergeWindowMs: number },
): Promise<AlarmOutcome> {
  for (let attempt = 0; ; attempt++) {
    try {
      // A power cut brings hundreds of alarms at once: wait for a pooled connection (Prisma's default is 2 s)
      // rather than fail and make every device repeat into the same queue.
      return await uow.run(
        async (work) => {
          const outcome = await storeAlarm(work.db, input, options.flap ?? defaultFlapPolicy, options.mergeWindowMs);
          // The follow-ups commit with the alarm: a crash after the ack cannot lose the offer.
          if (outcome.incident?.created) work.emit("incident.opened", { incidentId: outcome.incident.id, autoDispatch: outcome.incident.autoDispatch });
          else if (outcome.incident) work.emit("incident.changed", { incidentId: outcome.incident.id });
          return outcome;
        },
        { maxWait: 15_000, timeout: 20_000 },
      );
    } catch (error) {
      // Two copies of a new alarm raced (another process got there first): the retry sees it stored.
      if (attempt < 2 && isUniqueViolation(error)) continue;
      throw error;
    }
  }
}
