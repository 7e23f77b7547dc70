import { EventEmitter } from "node:events";

/**
 * Domain events, emitted after the transaction that caused them committed. Realtime pushes, dispatch and
 * later processors (audit, notifications) hang off these instead of calling each other.
 */
export interface DomainEventMap {
  "incident.opened": { incidentId: number; autoDispatch: boolean };
  "incident.changed": { incidentId: number };
  "team.changed": { teamId: number };
  // issue 4: calls and mass events
  "call.changed": { callId: number; event: "ringing" | "answered" | "ended" | "updated" };
  "mass_event.changed": { massEventId: number };
}

export class DomainEvents {
  private readonly emitter = new EventEmitter({ captureRejections: false });
  private onError: (name: string, error: unknown) => void = () => {};

  /** Handlers run detached from the emitter; a failing handler is reported, never thrown at the emitter. */
  on<K extends keyof DomainEventMap>(name: K, handler: (event: DomainEventMap[K]) => unknown): void {
    this.emitter.on(name, (event: DomainEventMap[K]) => {
      Promise.resolve()
        .then(() => handler(event))
        .catch((error) => this.onError(name, error));
    });
  }

  emit<K extends keyof DomainEventMap>(name: K, event: DomainEventMap[K]): void {
    this.emitter.emit(name, event);
  }

  reportErrorsTo(handler: (name: string, error: unknown) => void): void {
    this.onError = handler;
  }
}
