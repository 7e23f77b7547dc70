import { connectDatabase } from "../platform/db/index.ts";
import { describeTarget, parseDatabaseUrl } from "../platform/db/target.ts";
import { refuseOpenPGlite } from "../platform/db/in-use.ts";
import { verifyAuditChain } from "./log.ts";
import { createAuditRepository } from "./repository.ts";

/** `npm run audit:verify`: exits 1 when the audit log's hash chain is broken. */
const target = parseDatabaseUrl(process.env.DATABASE_URL);
refuseOpenPGlite(target);
const db = await connectDatabase(target);
try {
  const check = await verifyAuditChain(createAuditRepository(db.prisma));
  console.log(`${describeTarget(target)}: ${check.message}`);
  process.exitCode = check.ok ? 0 : 1;
} finally {
  await db.close().catch(() => {});
}
