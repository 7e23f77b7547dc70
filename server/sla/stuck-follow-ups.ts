import type { IncidentView, SlaAlertView } from "../contracts/index.ts";
import type { Logger } from "../platform/logger.ts";
import type { OutboxMessage } from "../platform/outbox/topics.ts";

/** What each automatic step is, in the dispatcher's words (the log keeps the technical reason). */
const STEP: Partial<Record<OutboxMessage["topic"], string>> = {
  "deadline.due": "deadline check (offer timeout or arrival)",
  "dispatch.next": "offering the next team",
  "incident.opened": "first dispatch of a new incident",
  "incident.changed": "freeing the teams of an ended incident",
};

/**
 * A follow-up of an incident that keeps failing (a deadline check, the next offer after a decline or an
 * expiry) is pushed to the centre's dispatchers and supervisors as an escalation, so a person acts on it
 * while the relay keeps retrying: it is never dropped after N tries. The push needs no database, which
 * may be the very thing that fails; the incident's code is added when it can still be read.
 */
export function escalateStuckFollowUp(deps: {
  incident: (id: number) => Promise<IncidentView | null>;
  push: (alert: SlaAlertView) => void;
  log: Logger;
  clock: () => Date;
}): (message: OutboxMessage, reason: string) => Promise<void> {
  return async (message, reason) => {
    const payload = message.payload as { incidentId?: unknown };
    const incidentId = typeof payload.incidentId === "number" ? payload.incidentId : null;
    deps.log.error({ outboxId: message.id, topic: message.topic, attempts: message.attempts, incidentId, reason }, "follow-up keeps failing; escalated to the centre");
    if (incidentId === null) return;
    const view = await deps.incident(incidentId).catch(() => null);
    const now = deps.clock().toISOString();
    deps.push({
      incidentId,
      incidentCode: view?.code ?? `#${incidentId}`,
      kind: "escalated",
      reason: "follow_up_failing",
      arrivalDeadlineAt: view?.arrivalDeadlineAt ?? now,
      estimatedArrivalAt: null,
      escalatedToTier: null,
      escalatedToTeamId: null,
      audience: ["dispatcher", "supervisor"],
      at: now,
      detail: `${STEP[message.topic] ?? message.topic}: failed ${message.attempts} times, still retrying`,
    });
  };
}
