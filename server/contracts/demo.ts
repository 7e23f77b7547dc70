import type { HmacSha256 } from "./hmac.ts";

/**
 * Demo installations only: every demo device's MQTT secret and the telephony webhook secret are derived
 * from one public key, so the simulator (`npm run sim`, `npm run call`) can speak to `npm start` without a
 * credentials file. Production devices get random secrets; production telephony sets TELEPHONY_SECRET.
 */
export const DEFAULT_DEMO_DEVICE_KEY = "tianjin-96333-demo";

/** Demo device ids are contiguous so that "the first N demo devices" is a meaningful simulator choice. */
export function demoDeviceId(index: number): string {
  return `tj-${String(index + 1).padStart(6, "0")}`;
}

/** base64url(HMAC-SHA256(demoKey, deviceId)), first 22 characters (128 bits, as a random secret has). */
export function demoDeviceSecret(hmac: HmacSha256, deviceId: string, demoKey = DEFAULT_DEMO_DEVICE_KEY): string {
  return hmac(demoKey, [deviceId], "base64url").slice(0, 22);
}

/** base64url(HMAC-SHA256(demoKey, "telephony-webhook")): the webhook secret while TELEPHONY_SECRET is unset. */
export function demoTelephonySecret(hmac: HmacSha256, demoKey = DEFAULT_DEMO_DEVICE_KEY): string {
  return hmac(demoKey, ["telephony-webhook"], "base64url");
}
