import crypto from "node:crypto";
import type { PrismaClient } from "../platform/db/generated/client.ts";
import type { AuditEntry } from "../platform/http.ts";

/** JSON with sorted keys, so the same row always hashes the same. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value ?? null);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
}

interface AuditRow {
  id: number;
  at: Date;
  actor: string;
  action: string;
  target: string | null;
  address: string | null;
  data: unknown;
}

export const GENESIS = "0".repeat(64);

/** hash = sha256(previous hash + canonical JSON of the row without its hash). */
export function rowHash(prev: string, row: AuditRow): string {
  const body = canonicalJson({ ...row, at: row.at.toISOString(), data: row.data ?? null });
  return crypto.createHash("sha256").update(prev).update(body).digest("hex");
}

/** Appends one entry; the table lock serialises writers so the chain never forks. */
export async function appendAudit(prisma: PrismaClient, entry: AuditEntry, at = new Date()): Promise<void> {
  await prisma.$transaction(async (tx) => {
    await tx.$executeRawUnsafe(`LOCK TABLE "audit_log" IN SHARE ROW EXCLUSIVE MODE`);
    const last = await tx.auditLog.findFirst({ orderBy: { id: "desc" }, select: { id: true, hash: true } });
    const [{ id }] = (await tx.$queryRawUnsafe(`SELECT nextval(pg_get_serial_sequence('audit_log', 'id'))::int AS id`)) as [{ id: number }];
    const at3 = new Date(Math.floor(at.getTime())); // stored with millisecond precision
    const row: AuditRow = { id, at: at3, actor: entry.actor, action: entry.action, target: entry.target, address: entry.address, data: entry.data ?? null };
    await tx.auditLog.create({ data: { ...row, data: (row.data ?? undefined) as never, hash: rowHash(last?.hash ?? GENESIS, row) } });
  });
}

export interface ChainCheck {
  ok: boolean;
  rows: number;
  /** The first row whose hash does not match, or whose predecessor is missing. */
  brokenAt: number | null;
  message: string;
}

/** Recomputes the whole chain; an edited, inserted or deleted row breaks it from there on. */
export async function verifyAuditChain(prisma: PrismaClient): Promise<ChainCheck> {
  let prev = GENESIS;
  let rows = 0;
  let cursor = 0;
  for (;;) {
    const batch = await prisma.auditLog.findMany({ where: { id: { gt: cursor } }, orderBy: { id: "asc" }, take: 1000 });
    if (batch.length === 0) break;
    for (const r of batch) {
      const expected = rowHash(prev, { id: r.id, at: r.at, actor: r.actor, action: r.action, target: r.target, address: r.address, data: r.data ?? null });
      if (expected !== r.hash) {
        return { ok: false, rows, brokenAt: r.id, message: `audit chain broken at row ${r.id}: stored hash does not match its content or predecessor` };
      }
      prev = r.hash;
      rows++;
      cursor = r.id;
    }
  }
  return { ok: true, rows, brokenAt: null, message: `audit chain intact (${rows} rows)` };
}
