import { SIGNATURE_HEADER, TELEPHONY_PATH, TIMESTAMP_HEADER, telephonySignature, type TelephonyEvent } from "../server/contracts/telephony.ts";
import { hmacSha256 } from "./crypto.ts";

/** A call event as the PBX sends it (the webhook's own schema, server/contracts/telephony.ts). */
export type CallEvent = TelephonyEvent;

/**
 * POST one call event to the platform's telephony webhook as a PBX / call centre does: HMAC-SHA256 of
 * `timestamp.body` (docs/telephony.md). The overrides exist for tests of refused deliveries.
 */
export function postCallEvent(
  baseUrl: string,
  secret: string,
  body: CallEvent | unknown,
  overrides: { timestamp?: number; secret?: string; signature?: string; raw?: string } = {},
): Promise<Response> {
  const raw = overrides.raw ?? JSON.stringify(body);
  const timestamp = String(overrides.timestamp ?? Math.floor(Date.now() / 1000));
  const signature = overrides.signature ?? `sha256=${telephonySignature(hmacSha256, overrides.secret ?? secret, timestamp, raw)}`;
  return fetch(new URL(TELEPHONY_PATH, baseUrl), {
    method: "POST",
    headers: { "content-type": "application/json", [TIMESTAMP_HEADER]: timestamp, [SIGNATURE_HEADER]: signature },
    body: raw,
  });
}
