import crypto from "node:crypto";
import { DEFAULT_DEMO_DEVICE_KEY, demoDeviceSecret as deriveDemoDeviceSecret } from "../contracts/demo.ts";
import { hmacSha256 } from "../platform/hmac.ts";

/**
 * Device secrets are 128-bit random tokens, not human passwords, so one SHA-256 is a sufficient hash and
 * keeps a reconnect storm (a city-wide power cut) cheap to authenticate. Only the hash is stored.
 */
export function hashDeviceSecret(secret: string): string {
  return "sha256:" + crypto.createHash("sha256").update(secret, "utf8").digest("hex");
}

export function verifyDeviceSecret(secret: string, storedHash: string): boolean {
  const expected = Buffer.from(storedHash, "utf8");
  const actual = Buffer.from(hashDeviceSecret(secret), "utf8");
  return expected.length === actual.length && crypto.timingSafeEqual(expected, actual);
}

export function newDeviceSecret(): string {
  return crypto.randomBytes(16).toString("base64url");
}

export { DEFAULT_DEMO_DEVICE_KEY, demoDeviceId } from "../contracts/demo.ts";

/**
 * Demo data only: every demo device's secret is derived from one key (the formula is in the contracts,
 * where the simulator reads it), so the simulator can connect as any demo device without a credentials
 * file. Production devices get `newDeviceSecret()`.
 */
export function demoDeviceSecret(deviceId: string, demoKey = DEFAULT_DEMO_DEVICE_KEY): string {
  return deriveDemoDeviceSecret(hmacSha256, deviceId, demoKey);
}

/**
 * The same secret in Mosquitto's password-file format (`$7$`: PBKDF2-SHA512, 101 iterations, 12-byte
 * salt, base64), as `mosquitto_passwd` writes it. Stored beside the SHA-256 hash when a secret is issued,
 * because the secret itself is never kept and an external broker cannot read our hash.
 */
export function mosquittoPasswordHash(secret: string, salt: Buffer = crypto.randomBytes(12)): string {
  const key = crypto.pbkdf2Sync(secret, salt, 101, 64, "sha512");
  return `$7$101$${salt.toString("base64")}$${key.toString("base64")}`;
}
