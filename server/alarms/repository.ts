import type { Alarm, Prisma, PrismaClient } from "../platform/db/generated/client.ts";
import type { AlarmPayload } from "../devices/protocol.ts";
import { appendEvent, openOrAttachIncident } from "../incidents/repository/writes.ts";
import { classifyAlarm, decideAlarm, decideFlap, incidentForAlarm, type AlarmDecision, type FlapPolicy } from "./catalogue.ts";

/**
 * The alarms capability's SQL: the reads and the acknowledgement the alarm routes make, and the writes of
 * one alarm message (raise, repeat, clear, fold into a flapping row) that the alarm service runs inside
 * its unit of work. What to write is the catalogue's decision (server/alarms/catalogue.ts, pure).
 */

export interface AlarmOutcome {
  decision: AlarmDecision["action"] | "flap_start" | "flap_fold";
  alarmDbId: number;
  incident: { id: number; created: boolean; autoDispatch: boolean } | null;
}

export interface AlarmFilter {
  active?: boolean;
  acknowledged?: boolean;
  elevatorId?: number;
  deviceId?: string;
  /** Keyset paging: only alarms with a smaller id (the last id of the previous page). */
  before?: number;
  limit: number;
}

export interface AlarmRepository {
  /** Newest first. */
  list(filter: AlarmFilter): Promise<Alarm[]>;
  /** Marks the alarm acknowledged unless it already was (the first acknowledgement is kept); null when it does not exist. */
  acknowledge(id: number, by: string, at: Date): Promise<Alarm | null>;
}

export function createAlarmRepository(prisma: PrismaClient): AlarmRepository {
  return {
    list: (filter) =>
      prisma.alarm.findMany({
        where: {
          ...(filter.active !== undefined ? { active: filter.active } : {}),
          ...(filter.acknowledged !== undefined ? { acknowledged: filter.acknowledged } : {}),
          ...(filter.elevatorId !== undefined ? { elevatorId: filter.elevatorId } : {}),
          ...(filter.deviceId !== undefined ? { deviceId: filter.deviceId } : {}),
          ...(filter.before !== undefined ? { id: { lt: filter.before } } : {}),
        },
        orderBy: { id: "desc" },
        take: filter.limit,
      }),
    async acknowledge(id, by, at) {
      await prisma.alarm.updateMany({ where: { id, acknowledged: false }, data: { acknowledged: true, ackAt: at, ackBy: by } });
      return prisma.alarm.findUnique({ where: { id } });
    },
  };
}

export async function storeAlarm(
  tx: Prisma.TransactionClient,
  { deviceId, elevatorId, payload, receivedAt }: { deviceId: string; elevatorId: number | null; payload: AlarmPayload; receivedAt: Date },
  flapPolicy: FlapPolicy,
  mergeWindowMs: number,
): Promise<AlarmOutcome> {
  // The row of this alarmId, or else (a repeat or clear of an alarmId that was folded into a flapping row
  // acts on that row) the newest flapping row it was folded into: one query for both, the own row first.
  const [existing = null] = (await tx.$queryRaw`
    SELECT id, active, "incidentId" FROM alarms
    WHERE "deviceId" = ${deviceId} AND ("alarmId" = ${payload.alarmId} OR ("lastAlarmId" = ${payload.alarmId} AND flapping))
    ORDER BY ("alarmId" = ${payload.alarmId}) DESC, id DESC
    LIMIT 1`) as { id: number; active: boolean; incidentId: number | null }[];
  const decision = decideAlarm(existing, payload.state);
  const deviceActor = { type: "device" as const, id: deviceId };
  const eventTime = receivedAt;

  if (!existing && payload.state === "raised") {
    const folded = await foldIfFlapping(tx, { deviceId, payload, receivedAt, flapPolicy });
    if (folded) return folded;
  }

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
    return {
      decision: decision.action,
      alarmDbId: existing.id,
      // A clear is on the incident's timeline now: consoles take it like any other change.
      incident: cleared && updated.incidentId !== null ? { id: updated.incidentId, created: false, autoDispatch: false } : null,
    };
  }

  const { code, entry } = classifyAlarm(payload.code);
  const wanted = payload.state === "raised" && elevatorId !== null ? incidentForAlarm(entry.handling, payload.passengers) : null;
  const alarmData = { alarmId: payload.alarmId, code, floor: payload.floor ?? null, passengers: payload.passengers ?? null };
  // The incident first, so that the alarm row is written once, already linked to it.
  const opened = wanted
    ? await openOrAttachIncident(tx, {
        elevatorId: elevatorId!,
        kind: wanted.kind,
        source: "alarm",
        reportedAt: receivedAt,
        actor: deviceActor,
        reason: `alarm ${code}`,
        data: alarmData,
      }, { mergeWindowMs })
    : null;
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
      incidentId: opened?.incidentId ?? null,
    },
    select: { id: true },
  });
  if (!wanted || !opened) return { decision: decision.action, alarmDbId: alarm.id, incident: null };
  const { incidentId, created } = opened;
  if (!created) {
    await appendEvent(tx, incidentId, { type: "alarm_attached", actor: deviceActor, at: eventTime, data: alarmData });
  }
  return { decision: decision.action, alarmDbId: alarm.id, incident: { id: incidentId, created, autoDispatch: wanted.autoDispatch } };
}

async function foldIfFlapping(
  tx: Prisma.TransactionClient,
  { deviceId, payload, receivedAt, flapPolicy }: { deviceId: string; payload: AlarmPayload; receivedAt: Date; flapPolicy: FlapPolicy },
): Promise<AlarmOutcome | null> {
  const { code } = classifyAlarm(payload.code);
  const sameCode = { deviceId, code, rawCode: payload.code };
  // The latest row of this code and how many of its rows cleared within the window, in one query.
  const [found] = (await tx.$queryRaw`
    SELECT l.id, l.flapping, l."lastRaisedAt", l."receivedAt", l."incidentId",
           (SELECT count(*)::int FROM alarms c
            WHERE c."deviceId" = l."deviceId" AND c.code = l.code AND c."rawCode" = l."rawCode"
              AND c."clearedAt" IS NOT NULL AND c."receivedAt" >= ${new Date(receivedAt.getTime() - flapPolicy.windowMs)}::timestamp(3)) AS "clearedInWindow"
    FROM alarms l
    WHERE l."deviceId" = ${sameCode.deviceId} AND l.code = ${sameCode.code} AND l."rawCode" = ${sameCode.rawCode}
    ORDER BY l.id DESC
    LIMIT 1`) as {
    id: number;
    flapping: boolean;
    lastRaisedAt: Date | null;
    receivedAt: Date;
    incidentId: number | null;
    clearedInWindow: number;
  }[];
  const latest = found ?? null;
  const clearedInWindow = found?.clearedInWindow ?? 0;
  const flap = decideFlap({ latest, clearedInWindow, now: receivedAt }, flapPolicy);
  if (flap === "new" || !latest) return null;
  await tx.alarm.update({
    where: { id: latest.id },
    data: {
      flapping: true,
      // Cycles folded so far: the ones that made it flap, then one per further raise.
      flapCount: flap === "start_flapping" ? clearedInWindow + 1 : { increment: 1 },
      lastAlarmId: payload.alarmId,
      lastRaisedAt: receivedAt,
      active: true,
      clearedAt: null,
      repeatCount: { increment: 1 },
    },
  });
  if (flap === "start_flapping" && latest.incidentId !== null) {
    await appendEvent(tx, latest.incidentId, {
      type: "alarm_flapping",
      actor: { type: "device", id: deviceId },
      at: receivedAt,
      data: { alarmId: payload.alarmId, code, cycles: clearedInWindow + 1 },
    });
  }
  return { decision: flap === "start_flapping" ? "flap_start" : "flap_fold", alarmDbId: latest.id, incident: null };
}
