import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { demoDeviceSecret as serverDeviceSecret, verifyDeviceSecret, hashDeviceSecret } from "../../server/devices/secrets.ts";
import { demoTelephonySecret as serverTelephonySecret, verifyTelephony } from "../../server/calls/signature.ts";
import { demoDeviceId, demoDeviceSecret, demoTelephonySecret } from "../../server/contracts/demo.ts";
import { telephonySignature } from "../../server/contracts/telephony.ts";
import { hmacSha256 as simulatorHmac } from "../../devices/crypto.ts";

/**
 * The contracts hold the formulas, each side brings its own node:crypto HMAC: the simulator's results
 * must be exactly what the server expects.
 */
describe("formulas of the contracts computed by the simulator and by the server", () => {
  it("derive the same demo device secrets", () => {
    for (const index of [0, 1, 41, 2999, 199_999]) {
      const id = demoDeviceId(index);
      const secret = demoDeviceSecret(simulatorHmac, id);
      expect(secret).toBe(serverDeviceSecret(id));
      expect(secret).toHaveLength(22);
      expect(verifyDeviceSecret(secret, hashDeviceSecret(serverDeviceSecret(id)))).toBe(true);
      expect(demoDeviceSecret(simulatorHmac, id, "another-demo-key")).toBe(serverDeviceSecret(id, "another-demo-key"));
    }
  });

  it("derive the same demo telephony secret", () => {
    expect(demoTelephonySecret(simulatorHmac)).toBe(serverTelephonySecret("tianjin-96333-demo"));
    expect(demoTelephonySecret(simulatorHmac, "k".repeat(12))).toBe(serverTelephonySecret("k".repeat(12)));
  });

  it("sign webhook deliveries the server accepts", () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), fc.string(), fc.integer({ min: 1_000_000_000, max: 9_999_999_999 }), (secret, body, ts) => {
        const signature = telephonySignature(simulatorHmac, secret, String(ts), body);
        const check = verifyTelephony({ secret, timestamp: String(ts), signature: `sha256=${signature}`, rawBody: Buffer.from(body, "utf8"), nowMs: ts * 1000 });
        expect(check.ok).toBe(true);
      }),
    );
  });
});
