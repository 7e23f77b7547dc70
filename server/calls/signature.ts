import crypto from "node:crypto";

/**
 * Webhook authentication for the telephony side: HMAC-SHA256 over `timestamp + "." + rawBody` with the
 * shared TELEPHONY_SECRET, hex-encoded, sent as `X-Signature: sha256=<hex>` with `X-Timestamp: <unix s>`.
 * The timestamp inside the signed text stops an old delivery from being replayed with a new header.
 */
export const MAX_SKEW_S = 300;

/**
 * The webhook secret of a demo installation without TELEPHONY_SECRET: derived from the (public) demo key
 * like the demo devices' secrets, so `npm run call` can ring the console of `npm start` out of the box.
 * Never a production secret: the server warns at start while it is in use.
 */
export function demoTelephonySecret(demoKey: string): string {
  return crypto.createHmac("sha256", demoKey).update("telephony-webhook").digest("base64url");
}

export function signTelephony(secret: string, timestamp: string, rawBody: string | Buffer): string {
  return crypto.createHmac("sha256", secret).update(`${timestamp}.`).update(rawBody).digest("hex");
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
