import { Prisma, type PrismaClient } from "../platform/db/generated/client.ts";
import type { AlarmPayload } from "../devices/protocol.ts";
import { appendEvent, openOrAttachIncident } from "../incidents/service.ts";
import { classifyAlarm, decideAlarm, incidentForAlarm, type AlarmDecision } from "./catalogue.ts";

export interface AlarmOutcome {
  decision: AlarmDecision["action"];
  alarmDbId: number;
  incident: { id: number; created: boolean; autoDispatch: boolean } | null;
}

const isUniqueViolation = (error: unknown) =>
  error instanceof Prisma.PrismaClientKnownRequestError && error.code === "P2002";

/**
 * Stores one alarm message and, when the catalogue says so, opens or joins the elevator's incident, all in
 * one transaction: the caller acknowledges the device only after this resolves.
 */
export async function recordAlarm(
  prisma: PrismaClient,
  input: { deviceId: string; elevatorId: number | null; payload: AlarmPayload; receivedAt: Date },
): Promise<AlarmOutcome> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await prisma.$transaction((tx) => storeAlarm(tx, input));
    } catch (error) {
      // Two copies of a new alarm raced (another process got there first): the retry sees it stored.
      if (attempt < 2 && isUniqueViolation(error)) continue;
      throw error;
    }
  }
}

async function storeAlarm(
  tx: Prisma.TransactionClient,
  { deviceId, elevatorId, payload, receivedAt }: { deviceId: string; elevatorId: number | null; payload: AlarmPayload; receivedAt: Date },
): Promise<AlarmOutcome> {
  const existing = await tx.alarm.findUnique({
    where: { deviceId_alarmId: { deviceId, alarmId: payload.alarmId } },
    select: { id: true, active: true, incidentId: true },
  });
  const decision = decideAlarm(existing, payload.state);
  const deviceActor = { type: "device" as const, id: deviceId };
  const eventTime = receivedAt;

  if (existing) {
    const cleared = decision.action === "clear";
    const updated = await tx.alarm.update({
      where: { id: existing.id },
      data:
        decision.action === "repeat" || decision.action === "raise_after_clear"
          ? { repeatCount: { increment: 1 }, active: true, clearedAt: null }
          : cleared
            ? { active: false, clearedAt: new Date(payload.ts) }
            : { repeatCount: { increment: 1 } },
    });
    if (cleared && updated.incidentId !== null) {
      await appendEvent(tx, updated.incidentId, {
        type: "alarm_cleared",
        actor: deviceActor,
        at: eventTime,
        data: { alarmId: payload.alarmId, code: updated.code },
      });
    }
    return { decision: decision.action, alarmDbId: existing.id, incident: null };
  }

  const { code, entry } = classifyAlarm(payload.code);
  const alarm = await tx.alarm.create({
    data: {
      deviceId,
      alarmId: payload.alarmId,
      code,
      rawCode: payload.code,
      severity: entry.severity,
      active: payload.state === "raised",
      raisedAt: new Date(payload.ts),
      receivedAt,
      clearedAt: payload.state === "cleared" ? new Date(payload.ts) : null,
      floor: payload.floor,
      passengers: payload.passengers,
      inDoorZone: payload.inDoorZone,
      detail: payload.detail,
      elevatorId,
    },
  });
  if (payload.state !== "raised" || elevatorId === null) {
    return { decision: decision.action, alarmDbId: alarm.id, incident: null };
  }
  const wanted = incidentForAlarm(entry.handling, payload.passengers);
  if (!wanted) return { decision: decision.action, alarmDbId: alarm.id, incident: null };

  const alarmData = { alarmId: payload.alarmId, code, floor: payload.floor ?? null, passengers: payload.passengers ?? null };
  const { incidentId, created } = await openOrAttachIncident(tx, {
    elevatorId,
    kind: wanted.kind,
    source: "alarm",
    reportedAt: receivedAt,
    actor: deviceActor,
    reason: `alarm ${code}`,
    data: alarmData,
  });
  await tx.alarm.update({ where: { id: alarm.id }, data: { incidentId } });
  if (!created) {
    await appendEvent(tx, incidentId, { type: "alarm_attached", actor: deviceActor, at: eventTime, data: alarmData });
  }
  return { decision: decision.action, alarmDbId: alarm.id, incident: { id: incidentId, created, autoDispatch: wanted.autoDispatch } };
}
