import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { statusPayloadSchema } from "../../server/devices/protocol.ts";
import {
  defaultMotionParams,
  inDoorZone,
  initialMotion,
  powerCut,
  restore,
  seededRng,
  statusFields,
  step,
  strandBetweenFloors,
  type MotionParams,
  type MotionState,
  type RandomGenerator,
} from "../../devices/motion.ts";

function run(seed: number, floors: number, steps: number, dtMs: number | ((i: number) => number), p?: MotionParams) {
  const params = p ?? { ...defaultMotionParams(floors), tripsPerHour: 120 };
  let { state, rng } = initialMotion(params, seededRng(seed));
  const trace: { state: MotionState; publish: boolean }[] = [];
  for (let i = 0; i < steps; i++) {
    const dt = typeof dtMs === "number" ? dtMs : dtMs(i);
    const r = step(state, dt, rng, params);
    state = r.state;
    rng = r.rng;
    trace.push({ state, publish: r.publish });
  }
  return { params, trace };
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === "object") {
    Object.freeze(o);
    for (const v of Object.values(o)) deepFreeze(v);
  }
  return o;
}

describe("simulator motion model", () => {
  it("keeps the floor in range and the door closed while moving (property)", () => {
    fc.assert(
      fc.property(fc.integer(), fc.integer({ min: 2, max: 60 }), fc.integer({ min: 50, max: 3000 }), (seed, floors, dt) => {
        const { params, trace } = run(seed, floors, 400, dt);
        for (const { state } of trace) {
          expect(state.floor).toBeGreaterThanOrEqual(1);
          expect(state.floor).toBeLessThanOrEqual(params.floors);
          expect(state.posM).toBeGreaterThanOrEqual(-1e-9);
          expect(state.posM).toBeLessThanOrEqual((params.floors - 1) * params.floorHeightM + 1e-9);
          if (state.moving) expect(state.door).toBe("closed");
          if (state.door !== "closed") expect(inDoorZone(state, params)).toBe(true);
          expect(state.riders).toBeGreaterThanOrEqual(0);
        }
      }),
      { numRuns: 60 },
    );
  });

  it("is deterministic for a seed and never mutates its inputs", () => {
    const a = run(42, 18, 2000, (i) => 100 + (i % 7) * 150);
    const b = run(42, 18, 2000, (i) => 100 + (i % 7) * 150);
    expect(a.trace).toEqual(b.trace);
    const c = run(43, 18, 2000, (i) => 100 + (i % 7) * 150);
    expect(c.trace).not.toEqual(a.trace);

    const params = defaultMotionParams(10);
    const init = initialMotion(params, seededRng(1));
    const state = deepFreeze(init.state);
    const rng: RandomGenerator = init.rng;
    const before = rng.getState().slice();
    const r1 = step(state, 60_000, rng, params);
    const r2 = step(state, 60_000, rng, params);
    expect(rng.getState()).toEqual(before);
    expect(r1).toEqual(r2);
  });

  it("serves trips: moves, carries passengers, opens doors level with a landing", () => {
    const { params, trace } = run(7, 20, 3600, 1000); // one hour
    expect(trace.some((t) => t.state.moving)).toBe(true);
    expect(trace.some((t) => t.state.riders > 0)).toBe(true);
    expect(trace.some((t) => t.state.door === "open")).toBe(true);
    expect(new Set(trace.map((t) => t.state.floor)).size).toBeGreaterThan(3);
    for (const { state } of trace) {
      if (state.moving) expect(statusFields(state, params).speed).toBeGreaterThan(0);
      const status = { ts: new Date(0).toISOString(), seq: 1, ...statusFields(state, params) };
      expect(statusPayloadSchema.safeParse(status).success).toBe(true);
    }
  });

  it("asks for a status exactly when floor, door or mode changed", () => {
    const { trace } = run(11, 15, 2000, 250);
    let prev = trace[0]!.state;
    for (const t of trace.slice(1)) {
      const changed = t.state.floor !== prev.floor || t.state.door !== prev.door || t.state.mode !== prev.mode;
      expect(t.publish).toBe(changed);
      prev = t.state;
    }
    expect(trace.filter((t) => t.publish).length).toBeGreaterThan(10);
  });

  it("strands a car between floors with passengers, and it stays there until restored", () => {
    const params = defaultMotionParams(12);
    const { state, rng } = initialMotion(params, seededRng(3));
    const stuck = strandBetweenFloors(state, params, 2);
    expect(inDoorZone(stuck, params)).toBe(false);
    const f = statusFields(stuck, params);
    expect(f).toMatchObject({ moving: false, passengers: true, inDoorZone: false, door: "closed", dir: "stop" });
    const later = step(stuck, 600_000, rng, params).state;
    expect(later.posM).toBe(stuck.posM);
    expect(later.riders).toBe(stuck.riders);

    let s = restore(later, params);
    let r = rng;
    for (let i = 0; i < 120 && s.riders > 0; i++) ({ state: s, rng: r } = step(s, 1000, r, params));
    expect(s.riders).toBe(0);
  });

  it("power cut: backup mode; a loaded car with its door closed ends outside the door zone", () => {
    const params = defaultMotionParams(10);
    const { trace } = run(5, 10, 3000, 500);
    const loadedClosed = trace.find((t) => t.state.riders > 0 && t.state.door === "closed")!.state;
    const cut = powerCut(loadedClosed, params);
    expect(cut.mode).toBe("power_backup");
    expect(statusFields(cut, params)).toMatchObject({ passengers: true, inDoorZone: false, moving: false });
    const openDoor = trace.find((t) => t.state.door === "open")!.state;
    expect(powerCut(openDoor, params).riders).toBe(0);
  });
});
