import { describe, expect, it } from "vitest";
import fc from "fast-check";
import {
  allowedNext,
  checkTransition,
  incidentStatuses,
  isOpen,
  terminalStatuses,
  type IncidentStatus,
} from "../../server/incidents/lifecycle.ts";

const kinds = ["entrapment", "fault", "other"] as const;
const status = fc.constantFrom(...incidentStatuses);
const kind = fc.constantFrom(...kinds);

describe("incident lifecycle", () => {
  it("walks the main path reported -> closed", () => {
    const path: IncidentStatus[] = ["reported", "dispatched", "accepted", "en_route", "on_scene", "released", "closed"];
    for (let i = 1; i < path.length; i++) {
      expect(checkTransition(path[i - 1]!, path[i]!, "entrapment").ok).toBe(true);
    }
  });

  it("refuses every move out of a terminal state, and names no next step", () => {
    fc.assert(
      fc.property(fc.constantFrom(...terminalStatuses), status, kind, (from, to, k) => {
        const result = checkTransition(from, to, k);
        expect(result.ok).toBe(false);
        if (!result.ok) expect(result.allowed).toEqual([]);
      }),
    );
  });

  it("answers a refused transition with exactly the allowed next steps", () => {
    fc.assert(
      fc.property(status, status, kind, (from, to, k) => {
        const result = checkTransition(from, to, k);
        expect(result.ok).toBe(allowedNext(from, k).includes(to));
        if (!result.ok) expect(result.allowed).toEqual(allowedNext(from, k));
      }),
    );
  });

  it("never stays in place, never returns to reported from a rescue under way, and never reopens", () => {
    fc.assert(
      fc.property(status, kind, (from, k) => {
        const next = allowedNext(from, k);
        expect(next).not.toContain(from);
        if (!["reported", "dispatched"].includes(from)) expect(next).not.toContain("reported");
        if (!isOpen(from)) expect(next.filter(isOpen)).toEqual([]);
      }),
    );
  });

  it("lets an entrapment close only after release, a fault ticket also straight from on_scene", () => {
    expect(checkTransition("on_scene", "closed", "entrapment").ok).toBe(false);
    expect(checkTransition("on_scene", "closed", "fault").ok).toBe(true);
    expect(checkTransition("released", "closed", "entrapment").ok).toBe(true);
  });

  it("can reach a terminal state from every status, and closed from every open one", () => {
    const reachable = (from: IncidentStatus, k: (typeof kinds)[number]) => {
      const seen = new Set<IncidentStatus>([from]);
      const queue = [from];
      while (queue.length) for (const n of allowedNext(queue.shift()!, k)) if (!seen.has(n)) (seen.add(n), queue.push(n));
      return seen;
    };
    for (const k of kinds) {
      for (const from of incidentStatuses) {
        const seen = reachable(from, k);
        expect(terminalStatuses.some((t) => seen.has(t))).toBe(true);
        if (isOpen(from)) expect(seen.has("closed")).toBe(true);
      }
    }
  });
});
