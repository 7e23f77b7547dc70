import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { MAX_SKEW_S, signTelephony, verifyTelephony } from "../../server/calls/signature.ts";

const secret = "unit-test-secret-0123456789";

describe("telephony webhook signature", () => {
  it("accepts exactly the signed body and timestamp, in either header form", () => {
    fc.assert(
      fc.property(fc.string(), fc.integer({ min: 1_700_000_000, max: 2_000_000_000 }), (body, ts) => {
        const raw = Buffer.from(body);
        const sig = signTelephony(secret, String(ts), raw);
        const now = ts * 1000;
        expect(verifyTelephony({ secret, timestamp: String(ts), signature: sig, rawBody: raw, nowMs: now }).ok).toBe(true);
        expect(verifyTelephony({ secret, timestamp: String(ts), signature: `sha256=${sig}`, rawBody: raw, nowMs: now }).ok).toBe(true);
        // Another body, or the same body under another timestamp, fails.
        const other = verifyTelephony({ secret, timestamp: String(ts), signature: sig, rawBody: Buffer.from(body + "x"), nowMs: now });
        expect(other).toMatchObject({ ok: false, reason: "bad_signature" });
        const moved = verifyTelephony({ secret, timestamp: String(ts + 1), signature: sig, rawBody: raw, nowMs: now });
        expect(moved).toMatchObject({ ok: false, reason: "bad_signature" });
      }),
    );
  });

  it("refuses timestamps more than five minutes away, before looking at the signature", () => {
    const ts = 1_800_000_000;
    const raw = Buffer.from("{}");
    const sig = signTelephony(secret, String(ts), raw);
    expect(verifyTelephony({ secret, timestamp: String(ts), signature: sig, rawBody: raw, nowMs: (ts + MAX_SKEW_S) * 1000 }).ok).toBe(true);
    expect(verifyTelephony({ secret, timestamp: String(ts), signature: sig, rawBody: raw, nowMs: (ts + MAX_SKEW_S + 1) * 1000 })).toMatchObject({
      ok: false,
      reason: "stale_timestamp",
    });
    expect(verifyTelephony({ secret, timestamp: "soon", signature: sig, rawBody: raw, nowMs: ts * 1000 })).toMatchObject({ reason: "bad_timestamp" });
    expect(verifyTelephony({ secret, timestamp: undefined, signature: sig, rawBody: raw, nowMs: ts * 1000 })).toMatchObject({ reason: "missing_headers" });
  });
});
