import { z } from "zod";
import type { HmacSha256 } from "./hmac.ts";

/**
 * The telephony webhook as a PBX or call centre speaks it (docs/telephony.md): call events POSTed as JSON,
 * signed with HMAC-SHA256 over `timestamp + "." + rawBody` under the shared TELEPHONY_SECRET, hex-encoded,
 * sent as `X-Signature: sha256=<hex>` with `X-Timestamp: <unix s>`. The timestamp inside the signed text
 * stops an old delivery from being replayed with a new header.
 */
export const TELEPHONY_PATH = "/api/telephony/events";
export const TIMESTAMP_HEADER = "x-timestamp";
export const SIGNATURE_HEADER = "x-signature";
/** How far X-Timestamp may be from the server's clock. */
export const MAX_SKEW_S = 300;

/** The hex signature of one delivery; the header carries it as `sha256=<hex>`. */
export function telephonySignature(hmac: HmacSha256, secret: string, timestamp: string, rawBody: string | Uint8Array): string {
  return hmac(secret, [`${timestamp}.`, rawBody], "hex");
}

export const iso = z.iso.datetime({ offset: true, message: "an ISO 8601 time with offset, e.g. 2026-11-27T08:00:00Z" });
export const phone = z
  .string()
  .trim()
  .regex(/^\+?[0-9][0-9 -]{2,24}$/, "a phone number: digits, optionally + and spaces or dashes")
  .transform((v) => v.replace(/[\s-]/g, ""));
export const label = z.string().trim().min(1).max(128);

export const telephonyEventBody = z.object({
  event: z.enum(["ringing", "answered", "held", "resumed", "ended"]),
  callId: z.string().trim().min(1).max(128),
  callerNumber: phone.optional(),
  line: label.optional(),
  agent: label.optional(),
  recordingRef: z.string().trim().min(1).max(512).optional(),
  /** Keyed in by the caller at the IVR prompt (请输入电梯救援识别码). */
  rescueCode: z.string().regex(/^\d{6}$/, "a rescue code has 6 digits").optional(),
  at: iso.optional(),
});
/** A call event as the PBX sends it. */
export type TelephonyEvent = z.input<typeof telephonyEventBody>;
