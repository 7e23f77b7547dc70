/**
 * Runs N simulated devices (demo ids/secrets) under one scheduler: a single tick loop steps every device
 * and plays the scenario, and connections are ramped at `ratePerSecond` so the broker is not stampeded.
 *
 * Practical ceiling: each device is one mqtt.js client with its own TCP connection, as the protocol
 * requires (a device publishes only under its own id with its own credentials, so connections cannot be
 * pooled). Measured: ~30 KiB RSS per device over a ~125 MiB base, ~8 % of a core per 3,000 devices in
 * steady state. One process to one broker address is bounded by the ephemeral port range (~28k on a
 * default Linux) and `ulimit -n`; so ~20-25k devices per process. For 200,000 devices run ~10 processes
 * with disjoint `--first` ranges, spread over hosts (or source addresses) and raise the broker's limits.
 */
import type { RandomGenerator } from "pure-rand/types/RandomGenerator";
import { uniformFloat64 } from "pure-rand/distribution/uniformFloat64";
import { uniformInt } from "pure-rand/distribution/uniformInt";
import { xoroshiro128plus } from "pure-rand/generator/xoroshiro128plus";
import { demoDeviceId, demoDeviceSecret } from "../server/contracts/demo.ts";
import { topics, type AlarmCode } from "../server/contracts/protocol.ts";
import { hmacSha256 } from "./crypto.ts";
import { SimulatedDevice } from "./device.ts";
import { inDoorZone, powerCut, strandBetweenFloors } from "./motion.ts";

export const scenarios = ["normal", "entrapment", "power-cut", "flapping", "offline", "malformed"] as const;
export type Scenario = (typeof scenarios)[number];

export interface FleetLog {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

export interface ScenarioTiming {
  /** Delay of the scenario event after the first device connected (power-cut: after every device connected or failed). */
  startAfterMs: number;
  /** Entrapment: from stopping between floors to raising `trapped` (a vendor's false-alarm filter). */
  trappedDelayMs: number;
  /** Power cut: devices lose power spread over this window; default min(60 s, half the remaining run). */
  powerCutWindowMs?: number;
  /** Flapping: one raise+clear cycle per period. */
  flapPeriodMs: number;
  /** Gap between consecutive malformed messages. */
  malformedGapMs: number;
  /** Normal-day minor alarms (door_fault, ebike_in_car) per device per day. */
  minorAlarmsPerDeviceDay: number;
}

export const defaultTiming: ScenarioTiming = {
  startAfterMs: 5_000,
  trappedDelayMs: 5_000,
  flapPeriodMs: 4_000,
  malformedGapMs: 200,
  minorAlarmsPerDeviceDay: 1,
};

export interface FleetOptions {
  brokerUrl: string;
  count: number;
  firstIndex?: number;
  scenario: Scenario;
  /** Connection ramp, new connections per second (default 500). */
  ratePerSecond?: number;
  /** Stop by itself after this many seconds (default: run until stop()). */
  durationS?: number;
  demoKey?: string;
  log?: FleetLog;
  seed?: number;
  tickMs?: number;
  statusIntervalIdleMs?: number;
  statusIntervalMovingMs?: number;
  alarmRepeatMs?: number;
  timing?: Partial<ScenarioTiming>;
}

export interface FleetStats {
  devices: number;
  started: number;
  connected: number;
  connectFailures: number;
  published: { status: number; alarm: number; conn: number; raw: number; total: number };
  alarmRepeats: number;
  alarmsRaised: number;
  acksReceived: number;
  unackedAlarms: number;
  elapsedS: number;
}

export interface MalformedCase {
  name: string;
  topic: string;
  payload: string;
}

export interface FleetHandle {
  readonly devices: readonly SimulatedDevice[];
  stats(): FleetStats;
  /** Resolves after stop() (or durationS) with the final stats. */
  readonly done: Promise<FleetStats>;
  stop(): Promise<FleetStats>;
  /** Malformed scenario: what has been sent so far, in order. */
  readonly malformedSent: readonly MalformedCase[];
}

/** The invalid uplinks of the malformed scenario (the unknown alarm code is sent as a normal raise). */
export function malformedCases(deviceId: string, now = Date.now()): MalformedCase[] {
  const ts = new Date(now).toISOString();
  const oversized = JSON.stringify({ ts, alarmId: "a-oversized", code: "door_fault", state: "raised", detail: "" });
  const pad = "x".repeat(5 * 1024 - oversized.length);
  return [
    { name: "invalid-json", topic: topics.status(deviceId), payload: `{"ts":"${ts}","seq":1,"floor":` },
    {
      name: "wrong-types",
      topic: topics.status(deviceId),
      payload: JSON.stringify({ ts, seq: -1, floor: "seven", dir: "sideways", door: 1, moving: "yes", inDoorZone: null, passengers: "no", mode: "normal" }),
    },
    {
      name: "oversized-5KiB",
      topic: topics.alarm(deviceId),
      payload: JSON.stringify({ ts, alarmId: "a-oversized", code: "door_fault", state: "raised", detail: pad }),
    },
    { name: "unknown-topic", topic: `lift/v1/${deviceId}/telemetry`, payload: JSON.stringify({ ts, temperatureC: 21.5 }) },
  ];
}

export const UNKNOWN_ALARM_CODE = "smoke_detected";

interface Scheduled {
  atMs: number;
  run: () => void;
}

export function runFleet(opts: FleetOptions): FleetHandle {
  const timing: ScenarioTiming = { ...defaultTiming, ...opts.timing };
  const first = opts.firstIndex ?? 0;
  const rate = Math.max(1, opts.ratePerSecond ?? 500);
  const tickMs = opts.tickMs ?? 100;
  const log = opts.log;
  const rng: RandomGenerator = xoroshiro128plus((opts.seed ?? 96333) | 0);
  const t0 = Date.now();
  const endAt = opts.durationS !== undefined ? t0 + opts.durationS * 1000 : Infinity;

  const devices: SimulatedDevice[] = [];
  for (let k = 0; k < opts.count; k++) {
    const id = demoDeviceId(first + k);
    devices.push(
      new SimulatedDevice({
        brokerUrl: opts.brokerUrl,
        deviceId: id,
        secret: demoDeviceSecret(hmacSha256, id, opts.demoKey),
        floors: uniformInt(rng, 6, 33),
        autoTick: false,
        statusIntervalIdleMs: opts.statusIntervalIdleMs,
        statusIntervalMovingMs: opts.statusIntervalMovingMs,
        alarmRepeatMs: opts.alarmRepeatMs,
      }),
    );
  }
  // The first device is the protagonist of the single-device scenarios; the rest live a normal day.
  const lead = devices[0];

  let started = 0;
  let pending = 0;
  let connectFailures = 0;
  let allowance = 0;
  let lastTick = t0;
  let tickNo = 0;
  let rampEndedAt: number | null = null;
  let leadConnectedAt: number | null = null;
  const agenda: Scheduled[] = [];
  const malformedSent: MalformedCase[] = [];
  const minorRatePerMs = (timing.minorAlarmsPerDeviceDay * opts.count) / 86_400_000;
  let nextMinorAt = t0 + expo(minorRatePerMs);

  function expo(ratePerMs: number): number {
    return ratePerMs > 0 ? -Math.log(1 - uniformFloat64(rng)) / ratePerMs : Infinity;
  }

  function at(atMs: number, run: () => void): void {
    heapPush(agenda, { atMs, run });
  }

  function safe(what: string, fn: () => unknown): void {
    try {
      const r = fn();
      if (r instanceof Promise) r.catch((err: unknown) => log?.warn({ err: String(err) }, what));
    } catch (err) {
      log?.warn({ err: String(err) }, what);
    }
  }

  function planLeadScenario(d: SimulatedDevice, now: number): void {
    const start = now + timing.startAfterMs;
    switch (opts.scenario) {
      case "entrapment":
        at(start, () => {
          d.updateMotion((s, p) => strandBetweenFloors(s, p, 2));
          log?.info({ deviceId: d.deviceId, floor: d.motion.floor }, "car stopped between floors with passengers");
        });
        at(start + timing.trappedDelayMs, () =>
          safe("trapped", () => {
            const alarmId = d.raiseAlarm("trapped", { passengers: true, inDoorZone: false });
            log?.info({ deviceId: d.deviceId, alarmId }, "trapped raised");
          }),
        );
        break;
      case "flapping": {
        const cycle = (t: number) => {
          at(t, () => {
            if (!d.connected) return;
            const id = d.raiseAlarm("stopped_outside_door_zone", { passengers: false, inDoorZone: false });
            at(t + timing.flapPeriodMs / 2, () => safe("flap clear", () => d.clearAlarm(id)));
            cycle(t + timing.flapPeriodMs);
          });
        };
        cycle(start);
        break;
      }
      case "offline":
        at(start, () =>
          safe("offline", async () => {
            await d.goOffline({ graceful: false });
            log?.info({ deviceId: d.deviceId }, "dropped without DISCONNECT (Last Will expected)");
          }),
        );
        break;
      case "malformed": {
        const cases = malformedCases(d.deviceId);
        cases.forEach((c, i) =>
          at(start + i * timing.malformedGapMs, () =>
            safe(`malformed ${c.name}`, async () => {
              await d.publishRaw(c.topic, c.payload);
              malformedSent.push(c);
            }),
          ),
        );
        at(start + cases.length * timing.malformedGapMs, () =>
          safe("unknown alarm code", () => {
            const alarmId = d.raiseAlarm(UNKNOWN_ALARM_CODE);
            malformedSent.push({ name: "unknown-alarm-code", topic: topics.alarm(d.deviceId), payload: alarmId });
          }),
        );
        break;
      }
      default:
        break;
    }
  }

  function planPowerCut(now: number): void {
    const start = now + timing.startAfterMs;
    const window =
      timing.powerCutWindowMs ?? Math.max(1_000, Math.min(60_000, endAt === Infinity ? 60_000 : (endAt - start) / 2));
    for (const d of devices) {
      at(start + uniformFloat64(rng) * window, () => {
        d.updateMotion(powerCut);
        const stranded = d.motion.riders > 0 && !inDoorZone(d.motion, d.params);
        safe("power_failure", () => d.raiseAlarm("power_failure", { detail: "mains power lost, terminal on battery" }));
        if (stranded) {
          at(Date.now() + timing.trappedDelayMs * (1 + uniformFloat64(rng)), () =>
            safe("trapped", () => d.raiseAlarm("trapped", { passengers: true, inDoorZone: false })),
          );
        }
      });
    }
    log?.info({ devices: devices.length, windowS: Math.round(window / 1000) }, "power cut scheduled");
  }

  function minorAlarm(now: number): void {
    const d = devices[uniformInt(rng, 0, Math.max(0, started - 1))];
    if (!d?.connected || d.motion.halted) return;
    const code: AlarmCode = uniformFloat64(rng) < 0.5 ? "door_fault" : "ebike_in_car";
    const id = d.raiseAlarm(code);
    at(now + uniformInt(rng, 30_000, 120_000), () => safe("minor clear", () => d.clearAlarm(id)));
  }

  function connectSome(now: number, dtMs: number): void {
    allowance = Math.min(allowance + (rate * dtMs) / 1000, rate);
    // Back off when the broker lags: never more than ~5 s of ramp outstanding.
    while (allowance >= 1 && started < devices.length && pending < rate * 5) {
      allowance -= 1;
      const d = devices[started++]!;
      pending++;
      d.connect().then(
        () => {
          pending--;
          if (d === lead && leadConnectedAt === null) {
            leadConnectedAt = Date.now();
            planLeadScenario(d, leadConnectedAt);
          }
        },
        (err: unknown) => {
          pending--;
          connectFailures++;
          if (connectFailures <= 5) log?.warn({ deviceId: d.deviceId, err: String(err) }, "connect failed");
        },
      );
    }
    if (started >= devices.length && pending === 0 && rampEndedAt === null) {
      rampEndedAt = now;
      log?.info({ devices: devices.length, failed: connectFailures, s: (now - t0) / 1000 }, "ramp complete");
      if (opts.scenario === "power-cut") planPowerCut(now);
    }
  }

  function tick(): void {
    const now = Date.now();
    const dt = now - lastTick;
    lastTick = now;
    connectSome(now, dt);
    // Big fleets: each device is stepped every `buckets` ticks, spreading the work over the second.
    const buckets = Math.min(10, Math.max(1, Math.ceil(started / 2000)));
    for (let i = tickNo % buckets; i < started; i += buckets) devices[i]!.tick(now);
    tickNo++;
    while (agenda.length > 0 && agenda[0]!.atMs <= now) heapPop(agenda)!.run();
    while (nextMinorAt <= now) {
      if (started > 0) minorAlarm(now);
      nextMinorAt += expo(minorRatePerMs);
    }
    if (now >= endAt) void stop();
  }

  const timer = setInterval(tick, tickMs);

  function stats(): FleetStats {
    const s: FleetStats = {
      devices: devices.length,
      started,
      connected: 0,
      connectFailures,
      published: { status: 0, alarm: 0, conn: 0, raw: 0, total: 0 },
      alarmRepeats: 0,
      alarmsRaised: 0,
      acksReceived: 0,
      unackedAlarms: 0,
      elapsedS: (Date.now() - t0) / 1000,
    };
    for (const d of devices) {
      const c = d.counters;
      if (d.connected) s.connected++;
      s.published.status += c.status;
      s.published.alarm += c.alarm;
      s.published.conn += c.conn;
      s.published.raw += c.raw;
      s.alarmRepeats += c.alarmRepeats;
      s.alarmsRaised += c.alarmsRaised;
      s.acksReceived += c.acksReceived;
      s.unackedAlarms += d.unackedCount();
    }
    s.published.total = s.published.status + s.published.alarm + s.published.conn + s.published.raw;
    return s;
  }

  let resolveDone!: (s: FleetStats) => void;
  const done = new Promise<FleetStats>((r) => (resolveDone = r));
  let stopping: Promise<FleetStats> | null = null;

  function stop(): Promise<FleetStats> {
    if (stopping) return stopping;
    clearInterval(timer);
    stopping = (async () => {
      const final = stats();
      // Graceful goodbye in batches so a large fleet does not flood the broker at exit.
      for (let i = 0; i < started; i += 1000) {
        await Promise.all(
          devices.slice(i, Math.min(started, i + 1000)).map((d) =>
            d.goOffline({ graceful: true }).catch(() => d.close().catch(() => undefined)),
          ),
        );
      }
      log?.info({ ...final.published, alarmsRaised: final.alarmsRaised }, "fleet stopped");
      resolveDone(final);
      return final;
    })();
    return stopping;
  }

  return {
    devices,
    stats,
    done,
    stop,
    malformedSent,
  };
}

// Binary min-heap on atMs: a power cut schedules one event per device (up to 200,000).
function heapPush(h: Scheduled[], item: Scheduled): void {
  h.push(item);
  let i = h.length - 1;
  while (i > 0) {
    const parent = (i - 1) >> 1;
    if (h[parent]!.atMs <= h[i]!.atMs) break;
    [h[parent], h[i]] = [h[i]!, h[parent]!];
    i = parent;
  }
}

function heapPop(h: Scheduled[]): Scheduled | undefined {
  const top = h[0];
  const last = h.pop();
  if (h.length === 0 || !last) return top;
  h[0] = last;
  let i = 0;
  for (;;) {
    const l = 2 * i + 1;
    const r = l + 1;
    let m = i;
    if (l < h.length && h[l]!.atMs < h[m]!.atMs) m = l;
    if (r < h.length && h[r]!.atMs < h[m]!.atMs) m = r;
    if (m === i) break;
    [h[m], h[i]] = [h[i]!, h[m]!];
    i = m;
  }
  return top;
}
