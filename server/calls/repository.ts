import type { Call, Prisma, PrismaClient } from "../platform/db/generated/client.ts";
import type { DbClient } from "../platform/db/types.ts";
import { LOCKS } from "../platform/db/locks.ts";
import {
  appendEvent,
  openOrAttachIncident,
  setIncidentCounts,
  type EventInput,
  type IncidentPolicy,
  type OpenIncidentInput,
} from "../incidents/repository/writes.ts";

export type CallRow = Call;

/** What the call service reads and writes; `tx` is the unit of work's transaction. */
export interface CallStore {
  /** Records a webhook delivery by its signature; null when that signature was seen before (a replay). */
  recordDelivery(tx: DbClient, delivery: { signature: string; callId: string; event: string; receivedAt: Date }): Promise<number | null>;
  /** Serialises the deliveries of one PBX call until commit, so ringing and answered racing make one row. */
  lockCallDeliveries(tx: DbClient, externalCallId: string): Promise<void>;
  /** Deliveries of the same call and event other than `exceptId`: a PBX retry. */
  countDeliveries(tx: DbClient, externalCallId: string, event: string, exceptId: number): Promise<number>;
  pruneDeliveries(before: Date): Promise<void>;
  byExternalId(tx: DbClient, externalCallId: string): Promise<CallRow | null>;
  byId(id: number, tx?: DbClient): Promise<CallRow | null>;
  create(tx: DbClient, data: Prisma.CallUncheckedCreateInput): Promise<CallRow>;
  update(tx: DbClient, id: number, data: Prisma.CallUncheckedUpdateInput): Promise<CallRow>;
  list(filter: { active: boolean; callerNumber?: string; limit: number }): Promise<CallRow[]>;
  elevatorIdByRescueCode(rescueCode: string, tx?: DbClient): Promise<number | null>;
  elevatorExists(id: number): Promise<boolean>;
  incidentCode(tx: DbClient, incidentId: number): Promise<string | null>;
  openOrAttachIncident(tx: DbClient, input: OpenIncidentInput, policy: Pick<IncidentPolicy, "mergeWindowMs">): ReturnType<typeof openOrAttachIncident>;
  appendEvent(tx: DbClient, incidentId: number, event: EventInput): Promise<void>;
  setIncidentCounts(tx: DbClient, incidentId: number, counts: { trappedCount?: number; injuredCount?: number }): Promise<void>;
}

/** The calls capability's SQL: calls, telephony deliveries, and the incident writes a call makes. */
export class CallRepository implements CallStore {
  constructor(private readonly prisma: PrismaClient) {}

  async recordDelivery(tx: DbClient, d: { signature: string; callId: string; event: string; receivedAt: Date }): Promise<number | null> {
    const inserted = (await tx.$queryRaw`
      INSERT INTO telephony_deliveries (signature, "callId", event, "receivedAt")
      VALUES (${d.signature}, ${d.callId}, ${d.event}, ${d.receivedAt})
      ON CONFLICT (signature) DO NOTHING RETURNING id`) as { id: number }[];
    return inserted[0]?.id ?? null;
  }

  async lockCallDeliveries(tx: DbClient, externalCallId: string): Promise<void> {
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(${LOCKS.callDelivery}::int, hashtext(${externalCallId}))`;
  }

  countDeliveries(tx: DbClient, externalCallId: string, event: string, exceptId: number): Promise<number> {
    return tx.telephonyDelivery.count({ where: { callId: externalCallId, event, id: { not: exceptId } } });
  }

  async pruneDeliveries(before: Date): Promise<void> {
    await this.prisma.telephonyDelivery.deleteMany({ where: { receivedAt: { lt: before } } });
  }

  byExternalId(tx: DbClient, externalCallId: string): Promise<CallRow | null> {
    return tx.call.findUnique({ where: { externalId: externalCallId } });
  }

  byId(id: number, tx: DbClient = this.prisma): Promise<CallRow | null> {
    return tx.call.findUnique({ where: { id } });
  }

  create(tx: DbClient, data: Prisma.CallUncheckedCreateInput): Promise<CallRow> {
    return tx.call.create({ data });
  }

  update(tx: DbClient, id: number, data: Prisma.CallUncheckedUpdateInput): Promise<CallRow> {
    return tx.call.update({ where: { id }, data });
  }

  list(filter: { active: boolean; callerNumber?: string; limit: number }): Promise<CallRow[]> {
    return this.prisma.call.findMany({
      where: { ...(filter.active ? { endedAt: null } : {}), ...(filter.callerNumber ? { callerNumber: filter.callerNumber } : {}) },
      orderBy: { ringingAt: "desc" },
      take: filter.limit,
    });
  }

  async elevatorIdByRescueCode(rescueCode: string, tx: DbClient = this.prisma): Promise<number | null> {
    return (await tx.elevator.findUnique({ where: { rescueCode }, select: { id: true } }))?.id ?? null;
  }

  async elevatorExists(id: number): Promise<boolean> {
    return (await this.prisma.elevator.count({ where: { id } })) > 0;
  }

  async incidentCode(tx: DbClient, incidentId: number): Promise<string | null> {
    return (await tx.incident.findUnique({ where: { id: incidentId }, select: { code: true } }))?.code ?? null;
  }

  openOrAttachIncident(tx: DbClient, input: OpenIncidentInput, policy: Pick<IncidentPolicy, "mergeWindowMs">) {
    return openOrAttachIncident(tx as Prisma.TransactionClient, input, policy);
  }

  appendEvent(tx: DbClient, incidentId: number, event: EventInput): Promise<void> {
    return appendEvent(tx, incidentId, event);
  }

  setIncidentCounts(tx: DbClient, incidentId: number, counts: { trappedCount?: number; injuredCount?: number }): Promise<void> {
    return setIncidentCounts(tx, incidentId, counts);
  }
}
