import { describe, expect, it } from "vitest";
import { maskPersonal, maskPhone } from "../../server/auth/roles.ts";
import { canonicalJson, GENESIS, rowHash } from "../../server/audit/log.ts";
import { parseCookies } from "../../server/auth/sessions.ts";

describe("privacy and audit helpers", () => {
  it("masks phone numbers keeping the first three and last four digits", () => {
    expect(maskPhone("13812341234")).toBe("138****1234");
    expect(maskPhone("+8613812341234")).toBe("+861****1234");
    expect(maskPhone("12345")).toBe("****");
    expect(maskPersonal({ calls: [{ callerNumber: "13912345678", line: "96333-01" }] })).toEqual({
      calls: [{ callerNumber: "139****5678", line: "96333-01" }],
    });
  });

  it("hashes rows canonically: key order does not matter, any change does", () => {
    expect(canonicalJson({ b: 1, a: [2, { d: null, c: "x" }] })).toBe('{"a":[2,{"c":"x","d":null}],"b":1}');
    const row = { id: 1, at: new Date("2026-11-27T08:00:00Z"), actor: "dispatcher", action: "auth.login", target: null, address: "127.0.0.1", data: null };
    const h = rowHash(GENESIS, row);
    expect(h).toMatch(/^[0-9a-f]{64}$/);
    expect(rowHash(GENESIS, { ...row })).toBe(h);
    expect(rowHash(GENESIS, { ...row, actor: "mallory" })).not.toBe(h);
    expect(rowHash(h, row)).not.toBe(h);
  });

  it("parses cookies and ignores malformed ones", () => {
    expect(parseCookies("a=1; lift96333_session=abc%3D; bad=%E0%A4%A")).toEqual({ a: "1", lift96333_session: "abc=" });
    expect(parseCookies(undefined)).toEqual({});
  });
});
