import type { IncidentView, MassEventView } from "../contracts/index.ts";
import type { Broadcast } from "../platform/realtime.ts";
import type { TimelineSince } from "./repository/timeline.ts";
import { incidentAudience, presentEvent } from "./presenter.ts";
import { isOpen } from "./lifecycle.ts";

/** The reads the pushes need. */
export interface PushReads {
  view(incidentId: number): Promise<IncidentView | null>;
  timelineSince(incidentId: number, afterEntryId: bigint): Promise<TimelineSince[]>;
  massEvent(massEventId: number): Promise<MassEventView | null>;
}

/**
 * Pushes incidents, each new timeline entry and mass-event changes to the consoles: the handlers of the
 * incident follow-ups. Everything is read back after the commit instead of being passed along, so a
 * redelivered follow-up sends the current state, and timeline entries appended by any writer (alarms,
 * dispatch, calls, lifecycle routes) are sent once each, in order.
 */
export function incidentPushes(store: PushReads, broadcast: Broadcast) {
  // Last entry sent per incident; forgotten when the incident ends, so the map stays as small as the open set.
  const lastSent = new Map<number, bigint>();
  const queue = new Map<number, Promise<void>>();

  const timeline = (incidentId: number) => {
    const previous = queue.get(incidentId) ?? Promise.resolve();
    const next = previous.then(async () => {
      const after = lastSent.get(incidentId) ?? 0n;
      // New entries and their audience (the same as the incident's own pushes: its elevator's company and
      // every team offered it) in one query: this runs after every change of every incident.
      const rows = await store.timelineSince(incidentId, after);
      if (!rows.length) return;
      const audience = { companyId: rows[0]!.companyId, teamIds: rows[0]!.teamIds };
      for (const row of rows) broadcast(audience, "incident:timeline", { incidentId, ...presentEvent(row), actorName: row.actorName });
      const last = rows.at(-1)!;
      // Forget an incident once it has ended (its last entry moved it to a terminal status); the cap
      // only matters if terminal entries are never seen, e.g. incidents closed by another process.
      if (last.toStatus && !isOpen(last.toStatus)) lastSent.delete(incidentId);
      else lastSent.set(incidentId, last.id);
      if (lastSent.size > 20_000) lastSent.delete(lastSent.keys().next().value!);
    });
    const settled = next.catch(() => {});
    queue.set(incidentId, settled);
    void settled.then(() => {
      if (queue.get(incidentId) === settled) queue.delete(incidentId);
    });
    return next;
  };

  return {
    /** incident:created / incident:updated to everyone the incident's REST scope allows. */
    /** Returns the view it pushed (null: no such incident), so the next handler need not read it again. */
    async incident(incidentId: number, event: "incident:created" | "incident:updated"): Promise<IncidentView | null> {
      const view = await store.view(incidentId);
      if (view) broadcast(incidentAudience(view), event, view);
      return view;
    },
    timeline,
    async massEvent(massEventId: number): Promise<void> {
      const view = await store.massEvent(massEventId);
      if (view) broadcast("centre", "mass-event:updated", view);
    },
  };
}
