import crypto from "node:crypto";
import type { HmacSha256 } from "../contracts/hmac.ts";

/** node:crypto's HMAC-SHA256 for the formulas of the contracts (demo secrets, webhook signatures). */
export const hmacSha256: HmacSha256 = (key, parts, encoding) => {
  const mac = crypto.createHmac("sha256", key);
  for (const part of parts) mac.update(part);
  return mac.digest(encoding);
};
