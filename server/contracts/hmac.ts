/**
 * HMAC-SHA256 of the concatenated parts under `key`, encoded as asked. The contracts stay free of
 * node:crypto (the console bundles them too), so the formulas that need an HMAC take it as an argument:
 * the server and the simulator each pass their own node:crypto implementation, and both compute the
 * same bytes from the one formula written here.
 */
export type HmacSha256 = (key: string, parts: readonly (string | Uint8Array)[], encoding: "hex" | "base64url") => string;
