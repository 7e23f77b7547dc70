import { describe, expect, it } from "vitest";
import { DeviceRateLimiter, RateWindow, StatusLane } from "../../server/devices/edge.ts";

/** Conformance with docs/protocol.md, "Rates and limits": the per-device status limit and the latest-wins queue. */
describe("device edge", () => {
  it("allows 5 status/s sustained with a burst of 20, drops beyond, and refills", () => {
    let now = 0;
    const limiter = new DeviceRateLimiter(5, 20, () => now);
    const burst = Array.from({ length: 25 }, () => limiter.take("d1"));
    expect(burst.filter(Boolean)).toHaveLength(20);
    // Another device has its own bucket.
    expect(limiter.take("d2")).toBe(true);
    // After a quiet second, 5 more.
    now += 1000;
    expect(Array.from({ length: 6 }, () => limiter.take("d1")).filter(Boolean)).toHaveLength(5);
    // A moving car: one status every 200 ms for a minute stays within the limit.
    let dropped = 0;
    for (let i = 0; i < 300; i++) {
      now += 200;
      if (!limiter.take("d3")) dropped++;
    }
    expect(dropped).toBe(0);
  });

  it("keeps at most one status per device, the newest, and never more than its bound", () => {
    const handled: [string, string][] = [];
    const lane = new StatusLane({ maxSize: 4, turnBudget: 1000, sliceMs: 1000, handle: (id, e) => handled.push([id, e.payload.toString()]) });
    lane.stop(); // drained by hand below
    const t = Date.now();
    lane.offer("a", Buffer.from("a1"), t);
    lane.offer("b", Buffer.from("b1"), t);
    lane.offer("a", Buffer.from("a2"), t);
    expect(lane.size).toBe(2);
    expect(lane.shed.superseded).toBe(1);
    // Half full: the reader is told to hold.
    expect(lane.hasRoom()).toBe(false);
    lane.offer("c", Buffer.from("c1"), t);
    lane.offer("d", Buffer.from("d1"), t);
    lane.offer("e", Buffer.from("e1"), t);
    expect(lane.size).toBe(4);
    expect(lane.shed.queue_full).toBe(1);
    lane.drain();
    expect(handled).toEqual([["a", "a2"], ["b", "b1"], ["c", "c1"], ["d", "d1"]]);
    expect(lane.hasRoom()).toBe(true);
  });

  it("counts a status replaced after waiting as shed because the ingest is behind", () => {
    const lane = new StatusLane({ maxSize: 100, turnBudget: 1000, sliceMs: 1000, handle: () => undefined });
    lane.stop();
    lane.offer("a", Buffer.from("1"), 1_000);
    lane.offer("a", Buffer.from("2"), 1_001); // same read: normal
    expect(lane.behindWindow.any()).toBe(false);
    lane.offer("a", Buffer.from("3"), 1_500); // waited 500 ms
    expect(lane.behindWindow.any()).toBe(true);
  });

  it("reports a rate over a sliding window of seconds", () => {
    const w = new RateWindow(2);
    w.add(10, 10_000);
    w.add(10, 10_500);
    expect(w.perSecond(10_900)).toBe(10);
    expect(w.any(12_100)).toBe(false);
  });
});
