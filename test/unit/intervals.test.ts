import { describe, expect, it } from "vitest";
import { computeIntervals, type TimelineEntry } from "../../server/incidents/intervals.ts";

const t0 = new Date("2026-11-27T08:00:00Z");
const at = (minutes: number, seconds = 0) => new Date(t0.getTime() + minutes * 60_000 + seconds * 1000);
const step = (minutes: number, toStatus: TimelineEntry["toStatus"], seconds = 0): TimelineEntry => ({
  at: at(minutes, seconds),
  toStatus,
  type: "transition",
});

describe("response intervals", () => {
  it("computes every interval of docs/design.md from the first time each status was reached", () => {
    const timeline = [
      step(0, "reported"),
      step(1, "dispatched", 30),
      step(3, "accepted"),
      step(4, "en_route"),
      step(16, "on_scene"),
      step(22, "released"),
      step(40, "closed"),
    ];
    expect(computeIntervals(t0, timeline)).toEqual({
      callProcessingS: 90,
      acceptanceS: 90,
      travelS: 720,
      arrivalS: 960,
      extricationS: 360,
      entrapmentS: 1320,
    });
  });

  it("uses the first dispatch when an incident was re-dispatched, whatever the order of the input", () => {
    const timeline = [step(9, "dispatched"), step(2, "dispatched"), step(5, "reported"), step(11, "accepted")];
    const result = computeIntervals(t0, timeline);
    expect(result.callProcessingS).toBe(120);
    expect(result.acceptanceS).toBe(540);
  });

  it("leaves intervals whose ends never happened as null", () => {
    const result = computeIntervals(t0, [step(0, "reported"), step(2, "released")]);
    expect(result).toMatchObject({ callProcessingS: null, arrivalS: null, extricationS: null, entrapmentS: 120 });
  });
});
