import { signTelephony } from "../server/calls/signature.ts";

export interface CallEvent {
  event: "ringing" | "answered" | "ended";
  callId: string;
  callerNumber?: string;
  line?: string;
  agent?: string;
  /** Keyed in by the caller at the IVR prompt (请输入电梯救援识别码). */
  rescueCode?: string;
  at?: string;
}

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
  const signature = overrides.signature ?? `sha256=${signTelephony(overrides.secret ?? secret, timestamp, raw)}`;
  return fetch(new URL("/api/telephony/events", baseUrl), {
    method: "POST",
    headers: { "content-type": "application/json", "x-timestamp": timestamp, "x-signature": signature },
    body: raw,
  });
}
