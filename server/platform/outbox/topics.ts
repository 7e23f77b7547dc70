import type { SlaAlertView } from "../../contracts/index.ts";
import type { DeadlineKind } from "../../sla/deadlines.ts";

/**
 * What a committed change causes, by topic. A row of each is written in the change's own transaction
 * (`UnitOfWork`), so a process that dies after the commit leaves the follow-up behind in the database
 * instead of losing it; the relay delivers it to every handler of its topic (`server/app.ts` lists them).
 * Payloads carry ids, not copies: a handler reads the current state, which makes redelivery harmless.
 */
export interface OutboxTopics {
  /** A new incident: push it, group mass events, and offer it when `autoDispatch`. */
  "incident.opened": { incidentId: number; autoDispatch: boolean };
  /** Any change of an incident: push it and its timeline; free its teams once it ended. */
  "incident.changed": { incidentId: number };
  /** A team's status, offers or position changed: push it. */
  "team.changed": { teamId: number };
  "call.changed": { callId: number; event: "ringing" | "answered" | "ended" | "updated" };
  "mass_event.changed": { massEventId: number };
  /** The incident lost its last active offer (declined, expired, withdrawn): offer the next team. */
  "dispatch.next": { incidentId: number; reason: string };
  /** A row of sla_deadlines fell due: run its check (offer timeout, arrival warning, arrival deadline). */
  "deadline.due": { deadlineId: number; incidentId: number; kind: DeadlineKind; data: Record<string, unknown> | null };
  /** An SLA warning or escalation for the centre's screens. */
  "sla.alert": { event: "sla:warning" | "sla:escalated"; alert: SlaAlertView };
}

export type Topic = keyof OutboxTopics;

export interface OutboxMessage<K extends Topic = Topic> {
  id: number;
  topic: K;
  payload: OutboxTopics[K];
  /** Deliveries started so far, this one included. */
  attempts: number;
}

export type OutboxHandler<K extends Topic> = (payload: OutboxTopics[K], message: OutboxMessage<K>) => Promise<void> | void;

/** Every handler of every topic, named for the logs and metrics. */
export type OutboxHandlers = { [K in Topic]: { name: string; handle: OutboxHandler<K> }[] };

export interface PendingEvent<K extends Topic = Topic> {
  topic: K;
  payload: OutboxTopics[K];
}
