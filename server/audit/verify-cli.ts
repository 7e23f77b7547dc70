import fs from "node:fs";
import { z } from "zod";
import { connectDatabase } from "../platform/db/index.ts";
import { describeTarget, parseDatabaseUrl } from "../platform/db/target.ts";
import { refuseOpenPGlite } from "../platform/db/in-use.ts";
import { verifyAuditChain } from "./log.ts";
import { createAuditRepository } from "./repository.ts";

/**
 * `npm run audit:verify [-- --checkpoint FILE]`: exits 1 when the audit log's hash chain is broken. With a
 * checkpoint file (kept where the database's users cannot write, e.g. another host), the newest row seen
 * last time must still be there unchanged, which catches the newest rows being deleted; on success the
 * file is moved on to the current newest row.
 */
const checkpointSchema = z.object({ id: z.number().int().positive(), hash: z.string().regex(/^[0-9a-f]{64}$/) });
const flag = process.argv.indexOf("--checkpoint");
const checkpointFile = flag > 0 ? process.argv[flag + 1] : process.env.AUDIT_CHECKPOINT_FILE;
const checkpoint = checkpointFile && fs.existsSync(checkpointFile) ? checkpointSchema.parse(JSON.parse(fs.readFileSync(checkpointFile, "utf8"))) : null;

const target = parseDatabaseUrl(process.env.DATABASE_URL);
refuseOpenPGlite(target);
const db = await connectDatabase(target);
try {
  const check = await verifyAuditChain(createAuditRepository(db.prisma), checkpoint);
  console.log(`${describeTarget(target)}: ${check.message}`);
  if (check.ok && checkpointFile && check.head) fs.writeFileSync(checkpointFile, JSON.stringify(check.head) + "\n");
  process.exitCode = check.ok ? 0 : 1;
} finally {
  await db.close().catch(() => {});
}
