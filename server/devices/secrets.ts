import crypto from "node:crypto";

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

/**
 * Demo data only: every demo device's secret is derived from one key, so the simulator can connect as
 * any demo device without a credentials file. Production devices get `newDeviceSecret()`.
 */
export const DEFAULT_DEMO_DEVICE_KEY = "tianjin-96333-demo";

export function demoDeviceSecret(deviceId: string, demoKey = DEFAULT_DEMO_DEVICE_KEY): string {
  return crypto.createHmac("sha256", demoKey).update(deviceId).digest("base64url").slice(0, 22);
}

/** Demo device ids are contiguous so that "the first N demo devices" is a meaningful simulator choice. */
export function demoDeviceId(index: number): string {
  return `tj-${String(index + 1).padStart(6, "0")}`;
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
