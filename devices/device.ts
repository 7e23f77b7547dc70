/**
 * One simulated elevator terminal speaking docs/protocol.md v1 over mqtt.js.
 * Standalone it drives itself with one timer; in a fleet (`autoTick: false`) the fleet scheduler calls
 * tick() so that no device owns a timer.
 */
import { EventEmitter } from "node:events";
import mqtt, { type MqttClient } from "mqtt";
import {
  commandSchema,
  topics,
  PROTOCOL_PREFIX,
  type AlarmCode,
  type AlarmPayload,
  type DeviceCommand,
  type StatusPayload,
  type UplinkKind,
} from "../server/contracts/protocol.ts";
import {
  defaultMotionParams,
  initialMotion,
  positionDetail,
  seededRng,
  statusFields,
  step,
  type MotionParams,
  type MotionState,
  type RandomGenerator,
} from "./motion.ts";

export interface SimulatedDeviceOptions {
  brokerUrl: string;
  deviceId: string;
  secret: string;
  floors: number;
  fw?: string;
  statusIntervalIdleMs?: number;
  statusIntervalMovingMs?: number;
  alarmRepeatMs?: number;
  /** Epoch milliseconds; used for `ts` and all scheduling decisions. */
  clock?: () => number;
  /** Seed of the motion model (default: derived from the device id). */
  seed?: number;
  /** Overrides of the motion model (e.g. tripsPerHour: 0 for a car that never moves). */
  motion?: Partial<Omit<MotionParams, "floors">>;
  /** false: the caller drives tick(); true (default): an own timer every tickMs. */
  autoTick?: boolean;
  tickMs?: number;
  reconnectPeriodMs?: number;
  connectTimeoutMs?: number;
}

export type AlarmExtra = Partial<Pick<AlarmPayload, "floor" | "passengers" | "inDoorZone" | "detail">>;

export interface DeviceCounters {
  status: number;
  alarm: number;
  conn: number;
  raw: number;
  /** Alarm messages that were repeats of an unacknowledged alarm. */
  alarmRepeats: number;
  alarmsRaised: number;
  acksReceived: number;
  commands: number;
}

interface AlarmRecord {
  payload: AlarmPayload;
  nextDueMs: number;
  /** Acknowledged in its current state: no more repeats. */
  settled: boolean;
}

export interface SimulatedDeviceEvents {
  connect: [];
  offline: [];
  ack: [alarmId: string];
  command: [cmd: DeviceCommand];
  voice: [text: string];
  status: [payload: StatusPayload];
  alarm: [payload: AlarmPayload];
  error: [err: Error];
}

function hashSeed(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h | 0;
}

export class SimulatedDevice extends EventEmitter<SimulatedDeviceEvents> {
  readonly deviceId: string;
  readonly fw: string;
  readonly params: MotionParams;
  readonly counters: DeviceCounters = {
    status: 0,
    alarm: 0,
    conn: 0,
    raw: 0,
    alarmRepeats: 0,
    alarmsRaised: 0,
    acksReceived: 0,
    commands: 0,
  };
  /** Alarm ids acknowledged by the platform while raised. */
  readonly acked = new Set<string>();
  readonly voiceMessages: string[] = [];
  motion: MotionState;

  private readonly opts: SimulatedDeviceOptions;
  private readonly idleMs: number;
  private readonly movingMs: number;
  private readonly repeatMs: number;
  private readonly clock: () => number;
  private rng: RandomGenerator;
  private client: MqttClient | null = null;
  private timer: NodeJS.Timeout | null = null;
  private seq = 0;
  private alarmSeq = 0;
  private lastStepMs: number;
  private lastStatusMs = -Infinity;
  private readonly alarms = new Map<string, AlarmRecord>();
  private readonly topicCmd: string;

  constructor(opts: SimulatedDeviceOptions) {
    super();
    this.opts = opts;
    this.deviceId = opts.deviceId;
    this.fw = opts.fw ?? "1.4.2";
    this.idleMs = opts.statusIntervalIdleMs ?? 10_000;
    this.movingMs = opts.statusIntervalMovingMs ?? 2_000;
    this.repeatMs = opts.alarmRepeatMs ?? 5_000;
    this.clock = opts.clock ?? Date.now;
    this.params = { ...defaultMotionParams(opts.floors), ...opts.motion, floors: defaultMotionParams(opts.floors).floors };
    const init = initialMotion(this.params, seededRng(opts.seed ?? hashSeed(opts.deviceId)));
    this.motion = init.state;
    this.rng = init.rng;
    this.lastStepMs = this.clock();
    this.topicCmd = topics.cmd(opts.deviceId);
  }

  get connected(): boolean {
    return this.client?.connected ?? false;
  }

  /** Raised alarms that have not been acknowledged yet. */
  get unackedAlarms(): string[] {
    const out: string[] = [];
    for (const [id, rec] of this.alarms) if (rec.payload.state === "raised" && !this.acked.has(id)) out.push(id);
    return out;
  }

  unackedCount(): number {
    let n = 0;
    for (const [id, rec] of this.alarms) if (rec.payload.state === "raised" && !this.acked.has(id)) n++;
    return n;
  }

  connect(): Promise<void> {
    if (this.client) throw new Error(`${this.deviceId}: already connected`);
    const client = mqtt.connect(this.opts.brokerUrl, {
      clientId: this.deviceId,
      username: this.deviceId,
      password: this.opts.secret,
      keepalive: 60,
      clean: true,
      protocolVersion: 4,
      reconnectPeriod: this.opts.reconnectPeriodMs ?? 1000 + (Math.abs(hashSeed(this.deviceId)) % 4000),
      connectTimeout: this.opts.connectTimeoutMs ?? 30_000,
      // A status that cannot be sent now is stale later: drop it (the seq gap shows the loss).
      queueQoSZero: false,
      resubscribe: false,
      will: { topic: topics.conn(this.deviceId), payload: Buffer.from('{"online":false}'), qos: 1, retain: true },
    });
    this.client = client;
    client.on("message", (topic, payload) => this.onMessage(topic, payload));
    client.on("offline", () => this.emit("offline"));
    client.on("connect", () => {
      this.publish("conn", topics.conn(this.deviceId), JSON.stringify({ online: true, fw: this.fw }), 1, true);
      client.subscribe(this.topicCmd, { qos: 1 }, (err) => {
        if (err) {
          this.emit("error", err);
          return;
        }
        this.publishStatus();
        // Devices that connect together would otherwise report in lockstep every idle interval.
        this.lastStatusMs -= (Math.abs(hashSeed(this.deviceId + this.seq)) % 1000) / 1000 * this.idleMs;
        this.emit("connect");
      });
    });
    client.on("error", (err) => {
      if (this.listenerCount("error") > 0) this.emit("error", err);
    });
    if (this.opts.autoTick ?? true) {
      const tickMs = this.opts.tickMs ?? Math.max(10, Math.min(250, this.movingMs / 2, this.repeatMs / 2));
      this.lastStepMs = this.clock();
      this.timer = setInterval(() => this.tick(), tickMs);
      this.timer.unref?.();
    }
    return new Promise((resolve, reject) => {
      const onConnect = () => {
        cleanup();
        resolve();
      };
      const onError = (err: Error) => {
        cleanup();
        reject(err);
      };
      const onClose = () => {
        if (this.client !== client) {
          cleanup();
          reject(new Error(`${this.deviceId}: closed before connecting`));
        }
      };
      const cleanup = () => {
        this.off("connect", onConnect);
        client.off("error", onError);
        client.off("close", onClose);
      };
      this.once("connect", onConnect);
      client.once("error", onError);
      client.on("close", onClose);
    });
  }

  /** Advance the motion model and send whatever is due (status, alarm repeats). */
  tick(now = this.clock()): void {
    const dt = now - this.lastStepMs;
    this.lastStepMs = now;
    if (dt > 0) {
      const res = step(this.motion, dt, this.rng, this.params);
      this.motion = res.state;
      this.rng = res.rng;
      if (res.publish) this.publishStatus(now);
    }
    if (now - this.lastStatusMs >= (this.motion.moving ? this.movingMs : this.idleMs)) this.publishStatus(now);
    if (this.alarms.size > 0 && this.connected) {
      for (const rec of this.alarms.values()) {
        if (rec.settled || now < rec.nextDueMs) continue;
        rec.nextDueMs = now + this.repeatMs;
        this.counters.alarmRepeats++;
        this.publishAlarm(rec.payload);
      }
    }
  }

  /** Replace the motion state (scenario faults); publishes a status when floor/door/mode/moving changed. */
  updateMotion(fn: (s: MotionState, p: MotionParams) => MotionState): void {
    const before = this.motion;
    this.motion = fn(before, this.params);
    const a = before;
    const b = this.motion;
    if (a.floor !== b.floor || a.door !== b.door || a.mode !== b.mode || a.moving !== b.moving || a.riders !== b.riders) {
      this.publishStatus();
    }
  }

  currentStatus(now = this.clock()): StatusPayload {
    return { ts: new Date(now).toISOString(), seq: this.seq, ...statusFields(this.motion, this.params) };
  }

  /** Publishes a status now (if connected; otherwise nothing is sent and seq is not consumed). */
  publishStatus(now = this.clock()): StatusPayload | null {
    this.lastStatusMs = now;
    if (!this.connected) return null;
    this.seq++;
    const payload = this.currentStatus(now);
    this.publish("status", topics.status(this.deviceId), JSON.stringify(payload), 0, false);
    this.emit("status", payload);
    return payload;
  }

  /** Returns the new alarm id; the alarm is repeated every alarmRepeatMs until acknowledged. */
  raiseAlarm(code: AlarmCode | (string & {}), extra: AlarmExtra = {}): string {
    const alarmId = `a-${String(++this.alarmSeq).padStart(6, "0")}`;
    const now = this.clock();
    const fields = statusFields(this.motion, this.params);
    const payload: AlarmPayload = {
      ts: new Date(now).toISOString(),
      alarmId,
      code,
      state: "raised",
      floor: fields.floor,
      passengers: fields.passengers,
      inDoorZone: fields.inDoorZone,
      detail: positionDetail(this.motion, this.params),
      ...extra,
    };
    this.alarms.set(alarmId, { payload, nextDueMs: now + this.repeatMs, settled: false });
    this.counters.alarmsRaised++;
    this.publishAlarm(payload);
    return alarmId;
  }

  /** Sends `state:"cleared"`; repeated until acknowledged like a raise. */
  clearAlarm(alarmId: string, detail?: string): void {
    const rec = this.alarms.get(alarmId);
    if (!rec) throw new Error(`${this.deviceId}: unknown alarm ${alarmId}`);
    const now = this.clock();
    const payload: AlarmPayload = { ...rec.payload, ts: new Date(now).toISOString(), state: "cleared" };
    if (detail !== undefined) payload.detail = detail;
    this.alarms.set(alarmId, { payload, nextDueMs: now + this.repeatMs, settled: false });
    this.publishAlarm(payload);
  }

  waitForAck(alarmId: string, timeoutMs = 10_000): Promise<void> {
    if (this.acked.has(alarmId)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const onAck = (id: string) => {
        if (id !== alarmId) return;
        clearTimeout(t);
        this.off("ack", onAck);
        resolve();
      };
      const t = setTimeout(() => {
        this.off("ack", onAck);
        reject(new Error(`${this.deviceId}: no ack for ${alarmId} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.on("ack", onAck);
    });
  }

  /** Publishes an arbitrary payload: `kindOrTopic` is a full topic, or a kind under the device's own prefix. */
  publishRaw(kindOrTopic: UplinkKind | (string & {}), payload: string | Buffer, qos: 0 | 1 = 1): Promise<void> {
    const topic = kindOrTopic.includes("/") ? kindOrTopic : `${PROTOCOL_PREFIX}/${this.deviceId}/${kindOrTopic}`;
    const client = this.client;
    if (!client?.connected) return Promise.reject(new Error(`${this.deviceId}: not connected`));
    this.counters.raw++;
    return new Promise((resolve, reject) => {
      client.publish(topic, payload, { qos }, (err) => (err ? reject(err) : resolve()));
    });
  }

  /** graceful: publishes online:false and disconnects; otherwise the socket is destroyed so the broker fires the Last Will. */
  async goOffline({ graceful }: { graceful: boolean }): Promise<void> {
    const client = this.client;
    if (!client) return;
    this.stopTimer();
    this.client = null;
    if (graceful && client.connected) {
      await new Promise<void>((resolve) => {
        this.counters.conn++;
        client.publish(topics.conn(this.deviceId), '{"online":false}', { qos: 1, retain: true }, () => resolve());
      });
      await client.endAsync(false);
    } else {
      await client.endAsync(true);
    }
  }

  /** Disconnects cleanly (MQTT DISCONNECT: no Last Will, the retained online flag is left as is). */
  async close(): Promise<void> {
    this.stopTimer();
    const client = this.client;
    this.client = null;
    if (client) await client.endAsync(false).catch(() => client.endAsync(true));
  }

  private stopTimer(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private publishAlarm(payload: AlarmPayload): void {
    if (!this.connected) return;
    this.publish("alarm", topics.alarm(this.deviceId), JSON.stringify(payload), 1, false);
    this.emit("alarm", payload);
  }

  private publish(kind: "status" | "alarm" | "conn", topic: string, payload: string, qos: 0 | 1, retain: boolean): void {
    const client = this.client;
    if (!client) return;
    this.counters[kind]++;
    client.publish(topic, payload, { qos, retain }, (err) => {
      if (err && this.listenerCount("error") > 0) this.emit("error", err);
    });
  }

  private onMessage(topic: string, raw: Buffer): void {
    if (topic !== this.topicCmd) return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw.toString("utf8"));
    } catch {
      return;
    }
    const res = commandSchema.safeParse(parsed);
    if (!res.success) return;
    const cmd = res.data;
    this.counters.commands++;
    this.emit("command", cmd);
    switch (cmd.cmd) {
      case "ack": {
        this.counters.acksReceived++;
        const rec = this.alarms.get(cmd.alarmId);
        if (rec) {
          if (rec.payload.state === "raised") {
            rec.settled = true;
            this.acked.add(cmd.alarmId);
          } else {
            this.alarms.delete(cmd.alarmId);
          }
        }
        this.emit("ack", cmd.alarmId);
        break;
      }
      case "snapshot":
        this.publishStatus();
        break;
      case "voice":
        this.voiceMessages.push(cmd.text);
        this.emit("voice", cmd.text);
        break;
    }
  }
}
