import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { classifyQuery, nearCodes } from "../../server/elevators/lookup.ts";

describe("lookup query classification and close codes", () => {
  it("reads 6 digits as a rescue code, 20 as a registration code, a phone number as a caller, the rest as text", () => {
    expect(classifyQuery("120345")).toBe("rescue_code");
    expect(classifyQuery("120 345")).toBe("rescue_code");
    expect(classifyQuery("31101201032019000123")).toBe("registration_code");
    expect(classifyQuery("138-0013-8000")).toBe("caller");
    expect(classifyQuery("+8613800138000")).toBe("caller");
    expect(classifyQuery("鞍山西道120号")).toBe("text");
    expect(classifyQuery("12345")).toBe("text");
  });

  it("offers every code one digit away or with two neighbours swapped, and never the code itself", () => {
    fc.assert(
      fc.property(fc.stringMatching(/^\d{6}$/), (code) => {
        const near = nearCodes(code);
        expect(near).not.toContain(code);
        expect(new Set(near).size).toBe(near.length);
        for (const c of near) {
          expect(c).toMatch(/^\d{6}$/);
          const diffs = [...c].filter((ch, i) => ch !== code[i]).length;
          const swapped = diffs === 2 && [...c].sort().join("") === [...code].sort().join("");
          expect(diffs === 1 || swapped).toBe(true);
        }
        expect(near.filter((c) => [...c].filter((ch, i) => ch !== code[i]).length === 1)).toHaveLength(54);
      }),
    );
  });
});
