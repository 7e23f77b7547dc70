import type { MqttClient } from "mqtt";
import type { z } from "zod";
import type { PrismaClient } from "../platform/db/generated/client.ts";
import type { DomainEvents } from "../platform/events.ts";
import type { Logger } from "../platform/logger.ts";
import { recordAlarm } from "../alarms/service.ts";
import { isKnownAlarmCode } from "../alarms/catalogue.ts";
import { openStatuses } from "../incidents/lifecycle.ts";
import { appendEvent } from "../incidents/service.ts";
import type { DeviceRegistry } from "./registry.ts";
import {
  MAX_PAYLOAD_BYTES,
  PROTOCOL_PREFIX,
  alarmPayloadSchema,
  connPayloadSchema,
  parseUplinkTopic,
  statusPayloadSchema,
  topics,
  type AlarmPayload,
  type StatusPayload,
} from "./protocol.ts";

export interface LiveStatus extends StatusPayload {
  receivedAt: number;
  lostMessages: number;
}

export const ingestCounterNames = [
  "status_received",
  "alarm_received",
  "conn_received",
  "oversized",
  "malformed_json",
  "invalid_payload",
  "unknown_topic",
  "unknown_device",
  "unknown_alarm_code",
  "alarms_stored",
  "alarm_store_failed",
  "acks_sent",
  "status_lost",
  "samples_written",
] as const;
export type IngestCounter = (typeof ingestCounterNames)[number];

/**
 * The MQTT edge: decodes protocol v1 uplinks into normalized records, counts and logs what is malformed
 * (never throws at the client), keeps live status in memory, and acknowledges alarms only once stored.
 */
export class DeviceIngest {
  readonly counters = Object.fromEntries(ingestCounterNames.map((name) => [name, 0])) as Record<IngestCounter, number>;
  readonly live = new Map<string, LiveStatus>();
  private readonly alarmQueues = new Map<string, Promise<void>>();
  private pendingSamples = new Map<string, LiveStatus>();
  private flushTimer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly deps: {
      prisma: PrismaClient;
      registry: DeviceRegistry;
      events: DomainEvents;
      log: Logger;
      statusFlushMs: number;
    },
  ) {}

  async attach(client: MqttClient, options: { shareGroup: string | null }): Promise<void> {
    // With an external broker several server processes share the work: each alarm/status goes to one.
    const shared = (topic: string) => (options.shareGroup ? `$share/${options.shareGroup}/${topic}` : topic);
    await client.subscribeAsync(
      {
        [shared(`${PROTOCOL_PREFIX}/+/status`)]: { qos: 0 },
        [shared(`${PROTOCOL_PREFIX}/+/alarm`)]: { qos: 1 },
        // conn is retained and idempotent: every process reads it, and gets the retained state at start.
        [`${PROTOCOL_PREFIX}/+/conn`]: { qos: 1 },
      },
    );
    client.on("message", (topic, payload) => this.handle(client, topic, payload));
    this.flushTimer = setInterval(() => void this.flushSamples(), this.deps.statusFlushMs);
  }

  async stop(): Promise<void> {
    if (this.flushTimer) clearInterval(this.flushTimer);
    await Promise.allSettled([...this.alarmQueues.values()]);
    await this.flushSamples();
  }

  private bump(counter: IngestCounter, by = 1) {
    this.counters[counter] += by;
  }

  private reject(counter: IngestCounter, topic: string, detail: string) {
    this.bump(counter);
    this.deps.log.warn({ topic, reason: counter, detail }, "mqtt message rejected");
  }

  handle(client: MqttClient, topic: string, payload: Buffer): void {
    const route = parseUplinkTopic(topic);
    if (!route) return this.reject("unknown_topic", topic, "not a protocol v1 uplink topic");
    const device = this.deps.registry.get(route.deviceId);
    if (!device) return this.reject("unknown_device", topic, "device is not registered");
    if (payload.length > MAX_PAYLOAD_BYTES) {
      return this.reject("oversized", topic, `${payload.length} bytes > ${MAX_PAYLOAD_BYTES}`);
    }
    // The broker delivers an empty retained payload when a retained message is deleted: nothing to do.
    if (payload.length === 0 && route.kind === "conn") return;
    let json: unknown;
    try {
      json = JSON.parse(payload.toString("utf8"));
    } catch {
      return this.reject("malformed_json", topic, "payload is not JSON");
    }
    const validate = <S extends z.ZodType>(schema: S): z.infer<S> | null => {
      const result = schema.safeParse(json);
      if (result.success) return result.data;
      this.reject("invalid_payload", topic, result.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; "));
      return null;
    };
    const now = Date.now();
    switch (route.kind) {
      case "status": {
        const status = validate(statusPayloadSchema);
        if (!status) return;
        this.bump("status_received");
        this.onStatus(route.deviceId, status, now);
        return;
      }
      case "alarm": {
        const alarm = validate(alarmPayloadSchema);
        if (!alarm) return;
        this.bump("alarm_received");
        if (!isKnownAlarmCode(alarm.code)) this.bump("unknown_alarm_code");
        this.enqueueAlarm(client, route.deviceId, device.elevatorId, alarm, new Date(now));
        return;
      }
      case "conn": {
        const conn = validate(connPayloadSchema);
        if (!conn) return;
        this.bump("conn_received");
        void this.onConn(route.deviceId, device.elevatorId, conn.online, conn.fw, new Date(now)).catch((error) =>
          this.deps.log.error({ err: error, deviceId: route.deviceId }, "conn update failed"),
        );
        return;
      }
    }
  }

  private onStatus(deviceId: string, status: StatusPayload, now: number) {
    const previous = this.live.get(deviceId);
    let lost = previous?.lostMessages ?? 0;
    if (previous && status.seq > previous.seq + 1) {
      const gap = status.seq - previous.seq - 1;
      lost += gap;
      this.bump("status_lost", gap);
    }
    const live: LiveStatus = { ...status, receivedAt: now, lostMessages: lost };
    this.live.set(deviceId, live);
    this.pendingSamples.set(deviceId, live);
  }

  /** Alarms of one device are stored in order; different devices proceed concurrently. */
  private enqueueAlarm(client: MqttClient, deviceId: string, elevatorId: number | null, alarm: AlarmPayload, receivedAt: Date) {
    const previous = this.alarmQueues.get(deviceId) ?? Promise.resolve();
    const next = previous.then(() => this.storeAndAck(client, deviceId, elevatorId, alarm, receivedAt));
    this.alarmQueues.set(deviceId, next);
    void next.finally(() => {
      if (this.alarmQueues.get(deviceId) === next) this.alarmQueues.delete(deviceId);
    });
  }

  private async storeAndAck(client: MqttClient, deviceId: string, elevatorId: number | null, alarm: AlarmPayload, receivedAt: Date) {
    let outcome;
    const started = performance.now();
    try {
      outcome = await recordAlarm(this.deps.prisma, { deviceId, elevatorId, payload: alarm, receivedAt });
      this.deps.log.debug(
        { deviceId, alarmId: alarm.alarmId, receivedAt, storeMs: Math.round(performance.now() - started) },
        "alarm stored",
      );
    } catch (error) {
      // Not acknowledged: the device repeats the alarm until it is stored.
      this.bump("alarm_store_failed");
      this.deps.log.error({ err: error, deviceId, alarmId: alarm.alarmId }, "alarm not stored; device will repeat it");
      return;
    }
    this.bump("alarms_stored");
    client.publish(topics.cmd(deviceId), JSON.stringify({ cmd: "ack", alarmId: alarm.alarmId }), { qos: 1 }, (error) => {
      if (error) this.deps.log.warn({ err: error, deviceId }, "ack not delivered to broker");
      else this.bump("acks_sent");
    });
    if (outcome.incident?.created) {
      this.deps.log.info({ deviceId, incidentId: outcome.incident.id, code: alarm.code }, "incident opened from alarm");
      this.deps.events.emit("incident.opened", {
        incidentId: outcome.incident.id,
        autoDispatch: outcome.incident.autoDispatch,
      });
    } else if (outcome.incident) {
      this.deps.events.emit("incident.changed", { incidentId: outcome.incident.id });
    }
  }

  private async onConn(deviceId: string, elevatorId: number | null, online: boolean, fw: string | undefined, at: Date) {
    await this.deps.prisma.device.update({
      where: { id: deviceId },
      data: { online, lastSeenAt: at, ...(fw ? { firmware: fw } : {}) },
    });
    if (online || elevatorId === null) return;
    const affected = await this.deps.prisma.incident.findMany({
      where: { elevatorId, status: { in: [...openStatuses] }, deviceOffline: false },
      select: { id: true },
    });
    for (const { id } of affected) {
      await this.deps.prisma.$transaction(async (tx) => {
        await tx.incident.update({ where: { id }, data: { deviceOffline: true } });
        await appendEvent(tx, id, { type: "device_offline", actor: { type: "device", id: deviceId }, at });
      });
      this.deps.events.emit("incident.changed", { incidentId: id });
    }
  }

  /** Telemetry history as samples: at most one row per device per flush interval, written in one batch. */
  flushSamples(): Promise<void> {
    this.flushing = this.flushing.then(async () => {
      if (this.pendingSamples.size === 0) return;
      const batch = this.pendingSamples;
      this.pendingSamples = new Map();
      try {
        await this.deps.prisma.statusSample.createMany({
          data: [...batch].map(([deviceId, s]) => ({
            deviceId,
            elevatorId: this.deps.registry.get(deviceId)?.elevatorId ?? null,
            at: new Date(s.ts),
            seq: s.seq,
            floor: s.floor,
            dir: s.dir,
            door: s.door,
            moving: s.moving,
            passengers: s.passengers,
            inDoorZone: s.inDoorZone,
            mode: s.mode,
            speed: s.speed,
            load: s.load,
          })),
        });
        this.bump("samples_written", batch.size);
      } catch (error) {
        this.deps.log.error({ err: error, samples: batch.size }, "status samples not written");
      }
    });
    return this.flushing;
  }
}
