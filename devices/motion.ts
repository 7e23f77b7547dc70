/**
 * Pure, deterministic elevator motion model for the simulator. No I/O and no clocks: every function takes
 * a state (and an rng) and returns a new one; the inputs are never mutated.
 */
import type { RandomGenerator } from "pure-rand/types/RandomGenerator";
import { uniformFloat64 } from "pure-rand/distribution/uniformFloat64";
import { uniformInt } from "pure-rand/distribution/uniformInt";
import { xoroshiro128plus } from "pure-rand/generator/xoroshiro128plus";
import type { StatusPayload } from "../server/contracts/protocol.ts";

export type { RandomGenerator };
type Direction = StatusPayload["dir"];
type DoorState = StatusPayload["door"];
type LiftMode = StatusPayload["mode"];

export interface MotionParams {
  floors: number;
  floorHeightM: number;
  speedMps: number;
  doorMoveMs: number;
  doorDwellMs: number;
  /** Trip arrivals (a hall call followed by a car call) per hour, Poisson. */
  tripsPerHour: number;
  ratedPersons: number;
  /** Probability that the car starts mid-trip with people inside (a fleet joining in the middle of a day). */
  initialBusy: number;
}

export const defaultMotionParams = (floors: number): MotionParams => ({
  floors: Math.max(2, Math.min(200, Math.floor(floors))),
  floorHeightM: 3,
  speedMps: 1.5,
  doorMoveMs: 2500,
  doorDwellMs: 4000,
  tripsPerHour: 40,
  ratedPersons: 13,
  initialBusy: 0.3,
});

export interface Trip {
  from: number;
  to: number;
  riders: number;
}

export interface MotionState {
  /** Car position in metres above landing 1. */
  posM: number;
  /** Nearest landing (1-based). */
  floor: number;
  dir: Direction;
  door: DoorState;
  /** Time spent in the current door phase. */
  doorMs: number;
  moving: boolean;
  riders: number;
  mode: LiftMode;
  /** Stopped by a fault or power cut: no motion, no door movement, no trips served. */
  halted: boolean;
  queue: Trip[];
  active: { trip: Trip; leg: "pickup" | "dropoff" } | null;
}

export interface StepResult {
  state: MotionState;
  rng: RandomGenerator;
  /** Floor, door or mode changed: the protocol requires a status message now. */
  publish: boolean;
}

const DOOR_ZONE_M = 0.1;
const MAX_SUBSTEP_MS = 250;
const MAX_QUEUE = 4;

export function seededRng(seed: number): RandomGenerator {
  return xoroshiro128plus(seed | 0);
}

export function initialMotion(params: MotionParams, rng: RandomGenerator): { state: MotionState; rng: RandomGenerator } {
  const r = rng.clone();
  const floor = uniformFloat64(r) < 0.5 ? 1 : uniformInt(r, 1, params.floors);
  let active: MotionState["active"] = null;
  if (uniformFloat64(r) < params.initialBusy) {
    const trip = newTrip(params, r);
    if (trip.to === floor) trip.to = floor === 1 ? 2 : 1;
    active = { trip: { ...trip, from: floor }, leg: "dropoff" };
  }
  return {
    rng: r,
    state: {
      posM: floorPos(floor, params),
      floor,
      dir: "stop",
      door: "closed",
      doorMs: 0,
      moving: false,
      riders: active?.trip.riders ?? 0,
      mode: "normal",
      halted: false,
      queue: [],
      active,
    },
  };
}

const floorPos = (floor: number, p: MotionParams) => (floor - 1) * p.floorHeightM;

export function nearestFloor(posM: number, p: MotionParams): number {
  return Math.min(p.floors, Math.max(1, Math.round(posM / p.floorHeightM) + 1));
}

export function inDoorZone(s: MotionState, p: MotionParams): boolean {
  return Math.abs(s.posM - floorPos(s.floor, p)) <= DOOR_ZONE_M;
}

/** The status fields of docs/protocol.md derived from the motion state (ts and seq are the device's). */
export function statusFields(s: MotionState, p: MotionParams): Omit<StatusPayload, "ts" | "seq"> {
  return {
    floor: s.floor,
    dir: s.moving ? s.dir : "stop",
    door: s.door,
    moving: s.moving,
    inDoorZone: inDoorZone(s, p),
    passengers: s.riders > 0,
    mode: s.mode,
    speed: s.moving ? p.speedMps : 0,
    load: Math.min(200, Math.round((s.riders / p.ratedPersons) * 100)),
  };
}

/** e.g. "car stopped between floors 7 and 8", for alarm details. */
export function positionDetail(s: MotionState, p: MotionParams): string {
  if (inDoorZone(s, p)) return `car at floor ${s.floor}`;
  const below = Math.min(p.floors - 1, Math.max(1, Math.floor(s.posM / p.floorHeightM) + 1));
  return `car stopped between floors ${below} and ${below + 1}`;
}

function copy(s: MotionState): MotionState {
  return { ...s, queue: s.queue.slice(), active: s.active ? { trip: s.active.trip, leg: s.active.leg } : null };
}

function newTrip(p: MotionParams, r: RandomGenerator): Trip {
  // Residential pattern: half the trips start or end at the lobby.
  const lobby = uniformFloat64(r) < 0.5;
  let from = lobby ? 1 : uniformInt(r, 1, p.floors);
  let to = uniformInt(r, 1, p.floors - 1);
  if (to >= from) to += 1;
  if (lobby && uniformFloat64(r) < 0.5) [from, to] = [to, from];
  return { from, to, riders: uniformInt(r, 1, 4) };
}

function target(s: MotionState): number | null {
  if (!s.active) return null;
  return s.active.leg === "pickup" ? s.active.trip.from : s.active.trip.to;
}

function onDoorOpened(s: MotionState): void {
  const a = s.active;
  if (!a) return;
  if (a.leg === "pickup" && s.floor === a.trip.from) {
    s.riders += a.trip.riders;
    s.active = { trip: a.trip, leg: "dropoff" };
  } else if (a.leg === "dropoff" && s.floor === a.trip.to) {
    s.riders = Math.max(0, s.riders - a.trip.riders);
    s.active = null;
  }
}

/** Advances `s` in place by at most MAX_SUBSTEP_MS. */
function substep(s: MotionState, dt: number, p: MotionParams, r: RandomGenerator): void {
  const arrival = 1 - Math.exp(-(p.tripsPerHour / 3_600_000) * dt);
  if (uniformFloat64(r) < arrival && s.queue.length < MAX_QUEUE && s.mode === "normal") s.queue.push(newTrip(p, r));
  if (s.halted) return;

  switch (s.door) {
    case "opening":
      s.doorMs += dt;
      if (s.doorMs >= p.doorMoveMs) {
        s.door = "open";
        s.doorMs = 0;
        onDoorOpened(s);
      }
      return;
    case "open":
      s.doorMs += dt;
      if (s.doorMs >= p.doorDwellMs) {
        s.door = "closing";
        s.doorMs = 0;
      }
      return;
    case "closing":
      s.doorMs += dt;
      if (s.doorMs >= p.doorMoveMs) {
        s.door = "closed";
        s.doorMs = 0;
      }
      return;
    case "closed":
      break;
  }

  if (!s.active && s.queue.length > 0) s.active = { trip: s.queue.shift()!, leg: "pickup" };
  const t = target(s);
  if (t === null) {
    s.moving = false;
    s.dir = "stop";
    return;
  }
  const goal = floorPos(t, p);
  const delta = goal - s.posM;
  const travel = (p.speedMps * dt) / 1000;
  if (Math.abs(delta) <= travel) {
    s.posM = goal;
    s.floor = t;
    s.moving = false;
    s.dir = "stop";
    s.door = "opening";
    s.doorMs = 0;
    return;
  }
  s.moving = true;
  s.dir = delta > 0 ? "up" : "down";
  s.posM += delta > 0 ? travel : -travel;
  s.floor = nearestFloor(s.posM, p);
}

export function step(state: MotionState, dtMs: number, rng: RandomGenerator, p: MotionParams): StepResult {
  const s = copy(state);
  const r = rng.clone();
  let left = Math.max(0, dtMs);
  while (left > 0) {
    const dt = Math.min(MAX_SUBSTEP_MS, left);
    substep(s, dt, p, r);
    left -= dt;
  }
  const publish = s.floor !== state.floor || s.door !== state.door || s.mode !== state.mode;
  return { state: s, rng: r, publish };
}

/** Car stops between two landings with people inside (the entrapment scenario). */
export function strandBetweenFloors(state: MotionState, p: MotionParams, riders = 2): MotionState {
  const s = copy(state);
  const below = Math.min(p.floors - 1, Math.max(1, state.floor));
  s.posM = floorPos(below, p) + p.floorHeightM * 0.45;
  s.floor = nearestFloor(s.posM, p);
  s.riders = Math.max(1, riders, state.riders);
  s.door = "closed";
  s.doorMs = 0;
  s.moving = false;
  s.dir = "stop";
  s.halted = true;
  s.active = null;
  s.queue = [];
  return s;
}

/**
 * Mains power lost; the terminal runs on its backup battery. A car carrying people with its door not
 * open stops where it is, outside the door zone (if it was level it had just left the landing).
 */
export function powerCut(state: MotionState, p: MotionParams): MotionState {
  const s = copy(state);
  s.mode = "power_backup";
  s.halted = true;
  s.queue = [];
  if (s.riders > 0 && (s.door === "closed" || s.door === "closing")) {
    s.door = "closed";
    if (inDoorZone(s, p)) {
      const up = s.dir !== "down" ? s.floor < p.floors : s.floor === 1;
      s.posM += up ? 0.6 : -0.6;
      s.floor = nearestFloor(s.posM, p);
    }
  } else {
    // Door open at a landing: people walk out.
    s.riders = 0;
    s.active = null;
  }
  s.moving = false;
  s.dir = "stop";
  s.doorMs = 0;
  return s;
}

/** Fault cleared / power back: the car resumes normal service (riders are let out at the next landing). */
export function restore(state: MotionState, p: MotionParams): MotionState {
  const s = copy(state);
  s.mode = "normal";
  s.halted = false;
  if (!inDoorZone(s, p) && s.riders > 0) {
    const to = nearestFloor(s.posM, p);
    s.active = { trip: { from: to, to, riders: s.riders }, leg: "dropoff" };
  }
  return s;
}
