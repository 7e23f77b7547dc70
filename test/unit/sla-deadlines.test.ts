import { describe, expect, it } from "vitest";
import { predictsMiss, warningDueAt } from "../../server/sla/deadlines.ts";

const now = new Date("2026-11-27T04:00:00Z");
const deadline = new Date(now.getTime() + 30 * 60_000);

describe("SLA deadlines", () => {
  it("checks the arrival lead time before the deadline", () => {
    expect(warningDueAt({ now, arrivalDeadlineAt: deadline, leadS: 600, estimatedArrivalAt: new Date(now.getTime() + 10 * 60_000) })).toEqual(
      new Date(deadline.getTime() - 600_000),
    );
  });

  it("warns at once when the first estimate already misses the deadline", () => {
    expect(warningDueAt({ now, arrivalDeadlineAt: deadline, leadS: 600, estimatedArrivalAt: new Date(deadline.getTime() + 1000) })).toEqual(now);
  });

  it("never schedules a check in the past", () => {
    expect(warningDueAt({ now, arrivalDeadlineAt: new Date(now.getTime() + 60_000), leadS: 600, estimatedArrivalAt: null })).toEqual(now);
  });

  it("counts an incident with nobody on it as a miss", () => {
    expect(predictsMiss(null, deadline)).toBe(true);
    expect(predictsMiss(new Date(deadline.getTime() - 1), deadline)).toBe(false);
    expect(predictsMiss(new Date(deadline.getTime() + 1), deadline)).toBe(true);
  });
});
