import crypto from "node:crypto";
import type { HmacSha256 } from "../server/contracts/hmac.ts";

/**
 * The simulator's own HMAC-SHA256 for the formulas of server/contracts (demo device secrets, the telephony
 * webhook signature), as a real device or PBX would compute them: it reaches no server internals.
 */
export const hmacSha256: HmacSha256 = (key, parts, encoding) => {
  const mac = crypto.createHmac("sha256", key);
  for (const part of parts) mac.update(part);
  return mac.digest(encoding);
};
