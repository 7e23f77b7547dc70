import crypto from "node:crypto";
import { demoTelephonySecret as deriveDemoTelephonySecret } from "../contracts/demo.ts";
import { MAX_SKEW_S, telephonySignature } from "../contracts/telephony.ts";
import { hmacSha256 } from "../platform/hmac.ts";

/**
 * Webhook authentication for the telephony side. What is signed, the headers and the skew limit are the
 * contracts' (server/contracts/telephony.ts), where a PBX integrator and the simulator read them.
 */
export { MAX_SKEW_S };

/**
 * The webhook secret of a demo installation without TELEPHONY_SECRET: derived from the (public) demo key
 * like the demo devices' secrets, so `npm run call` can ring the console of `npm start` out of the box.
 * Never a production secret: the server warns at start while it is in use.
 */
export function demoTelephonySecret(demoKey: string): string {
  return deriveDemoTelephonySecret(hmacSha256, demoKey);
}

export function signTelephony(secret: string, timestamp: string, rawBody: string | Buffer): string {
  return telephonySignature(hmacSha256, secret, timestamp, rawBody);
}

export type SignatureCheck =
  | { ok: true; signature: string }
  | { ok: false; reason: "missing_headers" | "bad_timestamp" | "stale_timestamp" | "bad_signature"; message: string };

export function verifyTelephony(input: {
  secret: string;
  timestamp: string | undefined;
  signature: string | undefined;
  rawBody: Buffer;
  nowMs: number;
}): SignatureCheck {
  if (!input.timestamp || !input.signature) {
    return { ok: false, reason: "missing_headers", message: "X-Timestamp and X-Signature headers are required" };
  }
  if (!/^\d{9,11}$/.test(input.timestamp)) {
    return { ok: false, reason: "bad_timestamp", message: "X-Timestamp must be Unix time in seconds" };
  }
  const skew = Math.abs(input.nowMs / 1000 - Number(input.timestamp));
  if (skew > MAX_SKEW_S) {
    return { ok: false, reason: "stale_timestamp", message: `X-Timestamp is ${Math.round(skew)} s away from now (at most ${MAX_SKEW_S} s)` };
  }
  const given = input.signature.replace(/^sha256=/, "").toLowerCase();
  const expected = signTelephony(input.secret, input.timestamp, input.rawBody);
  const a = Buffer.from(given, "utf8");
  const b = Buffer.from(expected, "utf8");
  if (a.length !== b.length || !crypto.timingSafeEqual(a, b)) {
    return { ok: false, reason: "bad_signature", message: "X-Signature does not match the body and timestamp" };
  }
  return { ok: true, signature: expected };
}
