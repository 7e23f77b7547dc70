import { crashPoint } from "../platform/crash.ts";
import type { MqttClient } from "mqtt";
import type { z } from "zod";
import type { PrismaClient } from "../platform/db/generated/client.ts";
import type { RawSql } from "../platform/db/adapter.ts";
import type { UnitOfWork } from "../platform/outbox/unit-of-work.ts";
import type { Logger } from "../platform/logger.ts";
import { recordAlarm } from "../alarms/service.ts";
import { defaultFlapPolicy, isKnownAlarmCode, type FlapPolicy } from "../alarms/catalogue.ts";
import type { ElevatorLiveView } from "../contracts/index.ts";
import { openStatuses } from "../incidents/lifecycle.ts";
import { appendEvent } from "../incidents/repository/writes.ts";
import type { DeviceRegistry } from "./registry.ts";
import type { EmbeddedBroker } from "../platform/broker.ts";
import { DeviceRateLimiter, StatusLane, type ShedReason } from "./edge.ts";
import { AlarmTiming } from "./alarm-timing.ts";
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

export type OfflineReason = "conn_offline" | "heartbeat_timeout";

/** One row of status history as written. */
interface SampleRow {
  deviceId: string;
  elevatorId: number | null;
  at: Date;
  seq: number;
  floor: number;
  dir: string;
  door: string;
  moving: boolean;
  passengers: boolean;
  inDoorZone: boolean;
  mode: string;
  speed: number | null;
  load: number | null;
}

/** Sample rows per INSERT when a backlog is written after an outage. */
const SAMPLE_WRITE_CHUNK = 5_000;

export interface Presence {
  online: boolean;
  /** Epoch ms of the last valid message (or of the DB's lastSeenAt after a restart). */
  lastSeen: number | null;
  /** Heartbeat clock: after a restart, the start time, so a silent device gets the whole timeout. */
  heardAt: number;
}

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
  "alarm_repeat_coalesced",
  "acks_sent",
  "status_lost",
  "samples_written",
  "heartbeat_timeouts",
  "alarm_deferred",
  "samples_dropped",
  "presence_dropped",
] as const;
export type IngestCounter = (typeof ingestCounterNames)[number];

/** Limits at the edge (docs/protocol.md, "Rates and limits"). */
export interface EdgeLimits {
  /** Sustained status messages per second per device; more are dropped (`rate_limited`). */
  statusRatePerS: number;
  /** Status messages a device may send at once after a quiet spell. */
  statusBurst: number;
  /** Most status messages waiting to be ingested (at most one per device). */
  statusQueueMax: number;
  /** Status read per event-loop turn before device connections are held (bounds a turn's length). */
  turnBudget: number;
  /** Longest stretch of status work before the event loop turns (alarms, acks and sockets go between). */
  sliceMs: number;
  /** An alarm not acknowledged after this long makes the alarm path "behind". */
  alarmLateMs: number;
  /** Alarms of one device waiting to be stored; more are left unacknowledged for the device to repeat. */
  alarmPendingPerDevice: number;
  /** Alarms of all devices waiting to be stored (a database outage): the same. */
  alarmPendingMax: number;
  /** Status samples kept for writing while the database cannot take them; the oldest go first. */
  sampleBacklogMax: number;
  /** Presence changes kept for writing while the database cannot take them; the oldest go first. */
  presenceBacklogMax: number;
}

export const defaultEdgeLimits: EdgeLimits = {
  statusRatePerS: 5,
  statusBurst: 20,
  statusQueueMax: 20_000,
  turnBudget: 5_000,
  sliceMs: 20,
  alarmLateMs: 1_000,
  alarmPendingPerDevice: 20,
  alarmPendingMax: 20_000,
  sampleBacklogMax: 100_000,
  presenceBacklogMax: 50_000,
};

/** Rate-limited status per second above which health calls it a flood rather than a few chatty devices. */
const RATE_LIMITED_FLOOD_PER_S = 50;

/** Shed per second below which a few chatty devices are not a degraded platform. */
const SHED_NOTICEABLE_PER_S = 20;

/** Sends a platform -> device message: straight into the embedded broker, or over the alarm connection. */
type Downlink = (topic: string, payload: string, done: (error?: Error) => void) => void;

export interface EdgeView {
  queueDepth: number;
  queueMax: number;
  oldestQueuedMs: number;
  heldConnections: number;
  shed: Record<ShedReason, number>;
  shedPerS: number;
  ingestedPerS: number;
  unackedAlarms: number;
  oldestUnackedAlarmS: number | null;
  /** Alarms taken and waiting for the database (bounded by alarmPendingMax). */
  pendingAlarmStores: number;
  /** Status samples and presence changes not yet written (a database outage), bounded. */
  writeBacklog: { samples: number; presence: number };
  degradedReasons: string[];
}

/**
 * The MQTT edge: decodes protocol v1 uplinks into normalized records, counts and logs what is malformed
 * (never throws at the client), keeps live status in memory, and acknowledges alarms only once stored.
 */
export class DeviceIngest {
  readonly counters = Object.fromEntries(ingestCounterNames.map((name) => [name, 0])) as Record<IngestCounter, number>;
  readonly live = new Map<string, LiveStatus>();
  private readonly alarmQueues = new Map<string, Promise<void>>();
  readonly limits: EdgeLimits;
  private readonly limiter: DeviceRateLimiter;
  readonly lane: StatusLane;
  readonly timing = new AlarmTiming();
  /** Alarms received and not yet acknowledged, by device and alarmId: state and first arrival. */
  private readonly unacked = new Map<string, { state: string; at: number; storing: boolean }>();
  /** Incidents opened by an alarm, waiting for their `incident:created` push: alarm arrival time. */
  private readonly awaitingPush = new Map<number, number>();
  private downlink: Downlink | null = null;
  private heldConnections: () => number = () => 0;
  private pendingSamples = new Map<string, LiveStatus>();
  /** Sample rows a failed write left behind, oldest first; retried with the next flush. */
  private sampleBacklog: SampleRow[] = [];
  /** Alarms taken and not yet stored, per device and in all. */
  private readonly pendingAlarmStores = new Map<string, number>();
  private pendingAlarmTotal = 0;
  private flushTimer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> = Promise.resolve();
  /** Online/offline and last seen per device; DB writes only on transitions. */
  readonly presence = new Map<string, Presence>();
  /** Devices whose live view changed since the last fan-out. */
  private dirty = new Set<string>();
  /** Presence transitions not yet written, in arrival order; written in batches (a reconnect storm after a power cut is thousands). */
  private pendingPresence: { deviceId: string; online: boolean; at: number; fw?: string; reason?: OfflineReason }[] = [];
  private presenceFlushing: Promise<void> = Promise.resolve();
  private sweepTimer: NodeJS.Timeout | null = null;
  private presenceTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly deps: {
      prisma: PrismaClient;
      registry: DeviceRegistry;
      uow: UnitOfWork;
      /** A report this soon after the elevator's last incident ended opens a new one linked to it. */
      mergeWindowMs: number;
      log: Logger;
      statusFlushMs: number;
      flap?: FlapPolicy;
      /** Heartbeat timeout: a device silent this long is offline even without a Last Will. */
      offlineAfterMs?: number;
      now?: () => number;
      /** When given, samples go in as one `INSERT … SELECT FROM unnest(…)`: Prisma's createMany compiles every row, a measured ~20 % of the server's CPU at 3,000 msg/s. */
      raw?: RawSql;
      limits?: Partial<EdgeLimits>;
    },
  ) {
    this.limits = { ...defaultEdgeLimits, ...deps.limits };
    this.limiter = new DeviceRateLimiter(this.limits.statusRatePerS, this.limits.statusBurst);
    this.lane = new StatusLane({
      maxSize: this.limits.statusQueueMax,
      turnBudget: this.limits.turnBudget,
      sliceMs: this.limits.sliceMs,
      handle: (deviceId, entry) => this.ingestStatus(deviceId, entry.payload, entry.receivedAt),
    });
  }

  private now(): number {
    return this.deps.now ? this.deps.now() : Date.now();
  }

  /** Rebuilds presence from the database at start (retained `conn` messages then refine it). */
  async loadPresence(): Promise<void> {
    const rows = await this.deps.prisma.device.findMany({ select: { id: true, online: true, lastSeenAt: true } });
    const start = this.now();
    for (const row of rows) {
      this.presence.set(row.id, { online: row.online, lastSeen: row.lastSeenAt?.getTime() ?? null, heardAt: start });
    }
  }

  /** The live view of one device's elevator, or null when the device has no elevator. */
  liveView(deviceId: string): ElevatorLiveView | null {
    const device = this.deps.registry.get(deviceId);
    if (!device || device.elevatorId === null) return null;
    const p = this.presence.get(deviceId);
    const live = this.live.get(deviceId);
    let status: ElevatorLiveView["status"] = null;
    if (live) {
      const { receivedAt: _r, lostMessages: _l, ...fields } = live;
      status = fields;
    }
    return {
      elevatorId: device.elevatorId,
      deviceId,
      online: p?.online ?? false,
      lastSeenAt: p?.lastSeen != null ? new Date(p.lastSeen).toISOString() : null,
      lostMessages: live?.lostMessages ?? 0,
      status,
    };
  }

  /** Hands the changed devices to the fan-out and starts a new set. */
  takeDirty(): Set<string> {
    const taken = this.dirty;
    this.dirty = new Set();
    return taken;
  }

  /**
   * Embedded broker: status and alarms are taken from the broker at publish time (never through its
   * emitter), acks go straight into it; `conn` (retained) still comes through the platform's client.
   * External broker: status and `conn` on the platform's client, alarms and their acks on a connection
   * of their own, so a backlog of status in the broker or on the status socket cannot delay them.
   */
  async attach(options: { client: MqttClient; broker?: EmbeddedBroker | null; alarmClient?: MqttClient; shareGroup: string | null }): Promise<void> {
    const { client, broker, alarmClient } = options;
    // With an external broker several server processes share the work: each alarm/status goes to one.
    const shared = (topic: string) => (options.shareGroup ? `$share/${options.shareGroup}/${topic}` : topic);
    if (broker) {
      broker.tapUplinks({
        status: (deviceId, payload) => this.statusIn(deviceId, payload),
        alarm: (deviceId, payload) => this.alarmIn(deviceId, payload),
        superseded: (count) => this.lane.shedMany("superseded", count),
        hasRoom: () => this.lane.hasRoom(),
        onRoom: (listener) => this.lane.onRoom(listener),
      });
      this.downlink = (topic, payload, done) => broker.publish(topic, payload, 1, done);
      this.heldConnections = () => broker.heldConnections();
      // conn is retained and idempotent: every process reads it, and gets the retained state at start.
      await client.subscribeAsync({ [`${PROTOCOL_PREFIX}/+/conn`]: { qos: 1 } });
      client.on("message", (topic, payload) => this.handle(topic, payload));
    } else {
      const alarms = alarmClient ?? client;
      await alarms.subscribeAsync({ [shared(`${PROTOCOL_PREFIX}/+/alarm`)]: { qos: 1 } });
      if (alarms !== client) alarms.on("message", (topic, payload) => this.handle(topic, payload));
      this.downlink = (topic, payload, done) => alarms.publish(topic, payload, { qos: 1 }, (error) => done(error ?? undefined));
      await client.subscribeAsync({
        [shared(`${PROTOCOL_PREFIX}/+/status`)]: { qos: 0 },
        [`${PROTOCOL_PREFIX}/+/conn`]: { qos: 1 },
      });
      // The status socket is paused while the lane has no room: TCP pushes back to the external broker,
      // which drops QoS 0 status for a slow subscriber rather than the platform buffering it.
      let paused = false;
      const stream = () => (client as unknown as { stream?: { pause(): void; resume(): void } }).stream;
      this.lane.onRoom(() => {
        if (paused && this.lane.hasRoom()) {
          paused = false;
          stream()?.resume();
        }
      });
      this.heldConnections = () => (paused ? 1 : 0);
      client.on("message", (topic, payload) => {
        if (this.handle(topic, payload) === false && !paused) {
          paused = true;
          stream()?.pause();
        }
      });
    }
    this.flushTimer = setInterval(() => void this.flushSamples(), this.deps.statusFlushMs);
    this.presenceTimer = setInterval(() => void this.flushPresence(), Math.min(500, this.deps.statusFlushMs));
    const offlineAfterMs = this.deps.offlineAfterMs ?? 60_000;
    this.sweepTimer = setInterval(() => this.sweepHeartbeats(), Math.max(100, Math.min(5_000, offlineAfterMs / 4)));
  }

  async stop(): Promise<void> {
    if (this.flushTimer) clearInterval(this.flushTimer);
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    if (this.presenceTimer) clearInterval(this.presenceTimer);
    this.lane.stop();
    await Promise.allSettled([...this.alarmQueues.values()]);
    await this.flushPresence();
    await this.flushSamples();
  }

  private bump(counter: IngestCounter, by = 1) {
    this.counters[counter] += by;
  }

  private reject(counter: IngestCounter, topic: string, detail: string) {
    this.bump(counter);
    this.deps.log.warn({ topic, reason: counter, detail }, "mqtt message rejected");
  }

  /** A message from a subscription; false when the reader should hold (status only). */
  handle(topic: string, payload: Buffer): boolean {
    const route = parseUplinkTopic(topic);
    if (!route) {
      this.reject("unknown_topic", topic, "not a protocol v1 uplink topic");
      return true;
    }
    switch (route.kind) {
      case "status":
        return this.statusIn(route.deviceId, payload);
      case "alarm":
        this.alarmIn(route.deviceId, payload);
        return true;
      case "conn": {
        const conn = this.decode(route.deviceId, "conn", payload, connPayloadSchema);
        if (!conn) return true;
        this.bump("conn_received");
        const now = Date.now();
        if (conn.online) this.seen(route.deviceId, now, conn.fw);
        else this.wentOffline(route.deviceId, now, "conn_offline");
        return true;
      }
    }
  }

  /**
   * A status at the edge: the device's publish limit, then the latest-wins lane. Nothing is parsed here;
   * the lane ingests it when the event loop has time. Returns false when the reader should hold.
   */
  statusIn(deviceId: string, payload: Buffer): boolean {
    // Before the bucket: an external broker could pass ids that are not ours, and each would keep a bucket.
    if (!this.deps.registry.get(deviceId)) {
      this.reject("unknown_device", topics.status(deviceId), "device is not registered");
      return true;
    }
    if (!this.limiter.take(deviceId)) {
      this.lane.shedOne("rate_limited");
      return this.lane.hasRoom();
    }
    return this.lane.offer(deviceId, payload, Date.now());
  }

  /** An alarm at the edge: decoded and stored at once, whatever status is waiting. */
  alarmIn(deviceId: string, payload: Buffer): void {
    const alarm = this.decode(deviceId, "alarm", payload, alarmPayloadSchema);
    if (!alarm) return;
    this.bump("alarm_received");
    if (!isKnownAlarmCode(alarm.code)) this.bump("unknown_alarm_code");
    const now = Date.now();
    this.seen(deviceId, now);
    const device = this.deps.registry.get(deviceId)!;
    // A repeat of an alarm that is being stored right now costs nothing: the store under way acks it.
    const key = `${deviceId}\u0000${alarm.alarmId}`;
    const open = this.unacked.get(key);
    if (open?.storing && open.state === alarm.state) {
      this.bump("alarm_repeat_coalesced");
      return;
    }
    // While the database is away, stores wait: their number is bounded. An alarm not taken is not acked,
    // so the device repeats it until there is room; none is dropped.
    if ((this.pendingAlarmStores.get(deviceId) ?? 0) >= this.limits.alarmPendingPerDevice || this.pendingAlarmTotal >= this.limits.alarmPendingMax) {
      this.bump("alarm_deferred");
      if (!open) this.unacked.set(key, { state: alarm.state, at: now, storing: false });
      return;
    }
    if (open && open.state === alarm.state) open.storing = true;
    else this.unacked.set(key, { state: alarm.state, at: now, storing: true });
    this.enqueueAlarm(key, deviceId, device.elevatorId, alarm, new Date(now));
  }

  private ingestStatus(deviceId: string, payload: Buffer, receivedAt: number) {
    const status = this.decode(deviceId, "status", payload, statusPayloadSchema);
    if (!status) return;
    this.bump("status_received");
    this.onStatus(deviceId, status, receivedAt);
    this.seen(deviceId, receivedAt);
  }

  /** Registered device, size, JSON, schema: the first failure is counted and logged, and gives null. */
  private decode<S extends z.ZodType>(deviceId: string, kind: string, payload: Buffer, schema: S): z.infer<S> | null {
    const topic = `${PROTOCOL_PREFIX}/${deviceId}/${kind}`;
    if (!this.deps.registry.get(deviceId)) {
      this.reject("unknown_device", topic, "device is not registered");
      return null;
    }
    if (payload.length > MAX_PAYLOAD_BYTES) {
      this.reject("oversized", topic, `${payload.length} bytes > ${MAX_PAYLOAD_BYTES}`);
      return null;
    }
    // The broker delivers an empty retained payload when a retained message is deleted: nothing to do.
    if (payload.length === 0 && kind === "conn") return null;
    let json: unknown;
    try {
      json = JSON.parse(payload.toString("utf8"));
    } catch {
      this.reject("malformed_json", topic, "payload is not JSON");
      return null;
    }
    const result = schema.safeParse(json);
    if (result.success) return result.data;
    this.reject("invalid_payload", topic, result.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; "));
    return null;
  }

  /** The incident opened by an alarm reached the consoles: alarm -> push. */
  incidentPushed(incidentId: number, now = Date.now()): void {
    const at = this.awaitingPush.get(incidentId);
    if (at === undefined) return;
    this.awaitingPush.delete(incidentId);
    this.timing.push.observe((now - at) / 1000);
  }

  /** The edge's figures, and why the device path is degraded (empty when it is not). */
  edgeView(now = Date.now()): EdgeView {
    let oldest: number | null = null;
    for (const [key, entry] of this.unacked) {
      // A device that stopped repeating an unstored alarm is not the platform being behind forever.
      if (now - entry.at > 10 * 60_000) this.unacked.delete(key);
      else if (oldest === null || entry.at < oldest) oldest = entry.at;
    }
    for (const [id, at] of this.awaitingPush) if (now - at > 10 * 60_000) this.awaitingPush.delete(id);
    const oldestUnackedAlarmS = oldest === null ? null : (now - oldest) / 1000;
    const held = this.heldConnections();
    const reasons: string[] = [];
    if (this.lane.behindWindow.any(now)) reasons.push("status shed: ingest behind");
    // Two status of one device in one read are normal; shedding a noticeable share of all status is not.
    const shedPerS = this.lane.shedWindow.perSecond(now);
    if (shedPerS > SHED_NOTICEABLE_PER_S && shedPerS > 0.05 * this.lane.takenWindow.perSecond(now)) reasons.push("status shed: more than 5 % of status");
    // A device or two over its limit is their fault and only counted; many at once is a flood.
    if (this.lane.rateLimitedWindow.perSecond(now) > RATE_LIMITED_FLOOD_PER_S) reasons.push("status shed: devices over their limit");
    if (held > 0) reasons.push("device connections held");
    if (this.lane.size >= this.lane.maxSize / 2) reasons.push("status queue half full");
    if (oldestUnackedAlarmS !== null && oldestUnackedAlarmS * 1000 > this.limits.alarmLateMs) reasons.push("alarm not acknowledged in time");
    if (this.sampleBacklog.length > 0) reasons.push("status samples waiting for the database");
    return {
      queueDepth: this.lane.size,
      queueMax: this.lane.maxSize,
      oldestQueuedMs: this.lane.oldestAgeMs(now),
      heldConnections: held,
      shed: { ...this.lane.shed },
      shedPerS: Math.round(this.lane.shedWindow.perSecond(now)),
      ingestedPerS: Math.round(this.lane.takenWindow.perSecond(now)),
      unackedAlarms: this.unacked.size,
      oldestUnackedAlarmS: oldestUnackedAlarmS === null ? null : Math.round(oldestUnackedAlarmS * 1000) / 1000,
      pendingAlarmStores: this.pendingAlarmTotal,
      writeBacklog: { samples: this.sampleBacklog.length, presence: this.pendingPresence.length },
      degradedReasons: reasons,
    };
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
    this.dirty.add(deviceId);
  }

  /** Any valid message proves the device is there; only a change of state touches the database. */
  private seen(deviceId: string, now: number, fw?: string) {
    const p = this.presence.get(deviceId);
    if (p?.online) {
      p.lastSeen = now;
      p.heardAt = now;
      if (fw) this.pendingPresence.push({ deviceId, online: true, at: now, fw });
      return;
    }
    this.presence.set(deviceId, { online: true, lastSeen: now, heardAt: now });
    this.dirty.add(deviceId);
    this.pendingPresence.push({ deviceId, online: true, at: now, fw });
  }

  private wentOffline(deviceId: string, now: number, reason: OfflineReason) {
    const p = this.presence.get(deviceId);
    if (p && !p.online) return;
    const lastSeen = p?.lastSeen ?? null;
    this.presence.set(deviceId, { online: false, lastSeen, heardAt: now });
    this.dirty.add(deviceId);
    // A heartbeat timeout dates the outage from the last message; a Last Will from its arrival.
    const from = reason === "heartbeat_timeout" && lastSeen !== null ? lastSeen : now;
    this.pendingPresence.push({ deviceId, online: false, at: from, reason });
  }

  /** Devices silent for longer than the timeout are offline, Last Will or not. */
  sweepHeartbeats(now = this.now()): void {
    const limit = this.deps.offlineAfterMs ?? 60_000;
    for (const [deviceId, p] of this.presence) {
      if (p.online && now - p.heardAt > limit) {
        this.bump("heartbeat_timeouts");
        this.deps.log.info({ deviceId, silentS: Math.round((now - p.heardAt) / 1000) }, "device offline: heartbeat timeout");
        this.wentOffline(deviceId, now, "heartbeat_timeout");
      }
    }
  }

  /**
   * Writes presence transitions in order, each run of same-kind transitions as a few set-based
   * statements, so 5,000 devices coming back after a power cut cost a handful of queries, not 10,000.
   */
  flushPresence(): Promise<void> {
    this.presenceFlushing = this.presenceFlushing.then(async () => {
      const batch = this.pendingPresence;
      if (batch.length === 0) return;
      this.pendingPresence = [];
      let i = 0;
      try {
        while (i < batch.length) {
          let j = i;
          while (j < batch.length && batch[j]!.online === batch[i]!.online) j++;
          const run = batch.slice(i, j);
          if (run[0]!.online) await this.persistOnline(run);
          else await this.persistOffline(run);
          i = j;
        }
      } catch (error) {
        // Kept in order for the next flush (the writes are idempotent), within a bound: the oldest go first.
        const kept = [...batch.slice(i), ...this.pendingPresence];
        const over = Math.max(0, kept.length - this.limits.presenceBacklogMax);
        if (over > 0) this.bump("presence_dropped", over);
        this.pendingPresence = kept.slice(over);
        this.deps.log.error({ err: error, transitions: batch.length - i, dropped: over }, "presence not written; retrying");
      }
    });
    return this.presenceFlushing;
  }

  private async persistOnline(run: { deviceId: string; at: number; fw?: string }[]) {
    const ids = [...new Set(run.map((t) => t.deviceId))];
    const at = new Date(Math.max(...run.map((t) => t.at)));
    const prisma = this.deps.prisma;
    await prisma.device.updateMany({ where: { id: { in: ids } }, data: { online: true, lastSeenAt: at } });
    const byFirmware = new Map<string, string[]>();
    for (const t of run) if (t.fw) byFirmware.set(t.fw, [...(byFirmware.get(t.fw) ?? []), t.deviceId]);
    for (const [firmware, deviceIds] of byFirmware) {
      await prisma.device.updateMany({ where: { id: { in: deviceIds } }, data: { firmware } });
    }
    await prisma.deviceOfflinePeriod.updateMany({ where: { deviceId: { in: ids }, to: null }, data: { to: at } });
  }

  private async persistOffline(run: { deviceId: string; at: number; reason?: OfflineReason }[]) {
    const first = new Map<string, { at: number; reason: OfflineReason }>();
    for (const t of run) if (!first.has(t.deviceId)) first.set(t.deviceId, { at: t.at, reason: t.reason ?? "conn_offline" });
    const ids = [...first.keys()];
    await this.deps.prisma.$transaction(async (tx) => {
      await tx.device.updateMany({ where: { id: { in: ids } }, data: { online: false } });
      const open = await tx.deviceOfflinePeriod.findMany({ where: { deviceId: { in: ids }, to: null }, select: { deviceId: true } });
      const already = new Set(open.map((o) => o.deviceId));
      await tx.deviceOfflinePeriod.createMany({
        data: ids.filter((id) => !already.has(id)).map((deviceId) => ({ deviceId, from: new Date(first.get(deviceId)!.at), reason: first.get(deviceId)!.reason })),
      });
    });
    const deviceOf = new Map<number, string>();
    for (const id of ids) {
      const elevatorId = this.deps.registry.get(id)?.elevatorId;
      if (elevatorId != null) deviceOf.set(elevatorId, id);
    }
    if (deviceOf.size > 0) await this.flagOpenIncidents(deviceOf, (deviceId) => new Date(first.get(deviceId)!.at));
  }

  /** Alarms of one device are stored in order; different devices proceed concurrently. */
  private enqueueAlarm(key: string, deviceId: string, elevatorId: number | null, alarm: AlarmPayload, receivedAt: Date) {
    const previous = this.alarmQueues.get(deviceId) ?? Promise.resolve();
    const next = previous.then(() => this.storeAndAck(key, deviceId, elevatorId, alarm, receivedAt));
    this.alarmQueues.set(deviceId, next);
    this.pendingAlarmStores.set(deviceId, (this.pendingAlarmStores.get(deviceId) ?? 0) + 1);
    this.pendingAlarmTotal++;
    void next.finally(() => {
      this.pendingAlarmTotal--;
      const left = (this.pendingAlarmStores.get(deviceId) ?? 1) - 1;
      if (left > 0) this.pendingAlarmStores.set(deviceId, left);
      else this.pendingAlarmStores.delete(deviceId);
      if (this.alarmQueues.get(deviceId) === next) this.alarmQueues.delete(deviceId);
    });
  }

  private async storeAndAck(key: string, deviceId: string, elevatorId: number | null, alarm: AlarmPayload, receivedAt: Date) {
    let outcome;
    const started = performance.now();
    crashPoint("alarm:received");
    try {
      outcome = await recordAlarm(
        this.deps.uow,
        { deviceId, elevatorId, payload: alarm, receivedAt },
        { flap: this.deps.flap ?? defaultFlapPolicy, mergeWindowMs: this.deps.mergeWindowMs },
      );
      this.deps.log.debug(
        { deviceId, alarmId: alarm.alarmId, receivedAt, storeMs: Math.round(performance.now() - started) },
        "alarm stored",
      );
    } catch (error) {
      // Not acknowledged: the device repeats the alarm until it is stored.
      this.bump("alarm_store_failed");
      const open = this.unacked.get(key);
      if (open) open.storing = false;
      this.deps.log.error({ err: error, deviceId, alarmId: alarm.alarmId }, "alarm not stored; device will repeat it");
      return;
    }
    this.bump("alarms_stored");
    crashPoint("alarm:stored");
    const first = this.unacked.get(key);
    this.unacked.delete(key);
    if (outcome.incident?.created) this.awaitingPush.set(outcome.incident.id, first?.at ?? receivedAt.getTime());
    this.downlink!(topics.cmd(deviceId), JSON.stringify({ cmd: "ack", alarmId: alarm.alarmId }), (error) => {
      if (error) this.deps.log.warn({ err: error, deviceId }, "ack not delivered to broker");
      else {
        this.bump("acks_sent");
        this.timing.ack.observe((Date.now() - (first?.at ?? receivedAt.getTime())) / 1000);
        crashPoint("alarm:acked");
      }
    });
    if (outcome.incident?.created) {
      this.deps.log.info({ deviceId, incidentId: outcome.incident.id, code: alarm.code }, "incident opened from alarm");
    }
  }

  /** An elevator that goes offline during an open incident is flagged on that incident. */
  private async flagOpenIncidents(deviceOf: Map<number, string>, atOf: (deviceId: string) => Date) {
    const affected = await this.deps.prisma.incident.findMany({
      where: { elevatorId: { in: [...deviceOf.keys()] }, status: { in: [...openStatuses] }, deviceOffline: false },
      select: { id: true, elevatorId: true },
    });
    for (const { id, elevatorId } of affected) {
      const deviceId = deviceOf.get(elevatorId)!;
      await this.deps.uow.run(async ({ db, emit }) => {
        await db.incident.update({ where: { id }, data: { deviceOffline: true } });
        await appendEvent(db, id, { type: "device_offline", actor: { type: "device", id: deviceId }, at: atOf(deviceId) });
        emit("incident.changed", { incidentId: id });
      });
    }
  }

  /** Telemetry history as samples: at most one row per device per flush interval, written in one batch. */
  flushSamples(): Promise<void> {
    this.flushing = this.flushing.then(async () => {
      if (this.pendingSamples.size === 0 && this.sampleBacklog.length === 0) return;
      const batch = this.pendingSamples;
      this.pendingSamples = new Map();
      const rows: SampleRow[] = [...this.sampleBacklog];
      this.sampleBacklog = [];
      for (const [deviceId, s] of batch) {
        rows.push({
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
          speed: s.speed ?? null,
          load: s.load ?? null,
        });
      }
      let written = 0;
      try {
        for (; written < rows.length; written += SAMPLE_WRITE_CHUNK) await this.writeSamples(rows.slice(written, written + SAMPLE_WRITE_CHUNK));
        this.bump("samples_written", rows.length);
      } catch (error) {
        // History waits for the database within a bound; the oldest samples are dropped first, and counted.
        const kept = rows.slice(written);
        const over = Math.max(0, kept.length - this.limits.sampleBacklogMax);
        if (over > 0) this.bump("samples_dropped", over);
        this.sampleBacklog = kept.slice(over);
        this.bump("samples_written", Math.min(written, rows.length));
        this.deps.log.error({ err: error, samples: kept.length, dropped: over }, "status samples not written; retrying");
      }
    });
    return this.flushing;
  }

  private async writeSamples(rows: SampleRow[]): Promise<void> {
    if (this.deps.raw) {
      await this.deps.raw.query(
        `INSERT INTO "status_samples" ("deviceId","elevatorId","at","seq","floor","dir","door","moving","passengers","inDoorZone","mode","speed","load")
         SELECT * FROM unnest($1::text[], $2::int[], $3::text[]::timestamp(3)[], $4::int[], $5::int[], $6::text[], $7::text[],
                              $8::boolean[], $9::boolean[], $10::boolean[], $11::text[], $12::float8[], $13::float8[])`,
        [
          rows.map((r) => r.deviceId),
          rows.map((r) => r.elevatorId),
          // timestamp(3) holds UTC wall time, as Prisma writes it.
          rows.map((r) => r.at.toISOString().replace("T", " ").replace("Z", "")),
          rows.map((r) => r.seq),
          rows.map((r) => r.floor),
          rows.map((r) => r.dir),
          rows.map((r) => r.door),
          rows.map((r) => r.moving),
          rows.map((r) => r.passengers),
          rows.map((r) => r.inDoorZone),
          rows.map((r) => r.mode),
          rows.map((r) => r.speed),
          rows.map((r) => r.load),
        ],
      );
    } else {
      await this.deps.prisma.statusSample.createMany({ data: rows });
    }
  }
}
