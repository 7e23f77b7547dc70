import crypto from "node:crypto";
import type { AuditEntry } from "../platform/http.ts";
import type { AuditRepository, AuditRow } from "./repository.ts";

/** JSON with sorted keys, so the same row always hashes the same. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value ?? null);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
}

export const GENESIS = "0".repeat(64);

/** hash = sha256(previous hash + canonical JSON of the row without its hash). */
export function rowHash(prev: string, row: AuditRow): string {
  const body = canonicalJson({ ...row, at: row.at.toISOString(), data: row.data ?? null });
  return crypto.createHash("sha256").update(prev).update(body).digest("hex");
}

/** Appends one entry, chained to the row before it. */
export async function appendAudit(audit: AuditRepository, entry: AuditEntry, at = new Date()): Promise<void> {
  const at3 = new Date(Math.floor(at.getTime())); // stored with millisecond precision
  await audit.append((previousHash, id) => {
    const row: AuditRow = { id, at: at3, actor: entry.actor, action: entry.action, target: entry.target, address: entry.address, data: entry.data ?? null };
    return { ...row, hash: rowHash(previousHash ?? GENESIS, row) };
  });
}

/** The newest row a verifier saw, kept outside the database: deleting rows up to it is then detected. */
export interface AuditCheckpoint {
  id: number;
  hash: string;
}

export interface ChainCheck {
  ok: boolean;
  rows: number;
  /** The first row whose hash does not match, or whose predecessor is missing. */
  brokenAt: number | null;
  message: string;
  /** The newest row checked (null on an empty log): the next checkpoint. */
  head: AuditCheckpoint | null;
}

/**
 * Recomputes the whole chain; an edited, inserted or deleted row breaks it from there on. The chain alone
 * cannot see the newest rows cut off (what is left still links up), so a checkpoint kept from an earlier
 * run must still be there, with the same hash.
 */
export async function verifyAuditChain(audit: AuditRepository, checkpoint: AuditCheckpoint | null = null): Promise<ChainCheck> {
  let prev = GENESIS;
  let rows = 0;
  let cursor = 0;
  let head: AuditCheckpoint | null = null;
  let checkpointSeen = checkpoint === null;
  for (;;) {
    const batch = await audit.after(cursor, 1000);
    if (batch.length === 0) break;
    for (const r of batch) {
      const expected = rowHash(prev, { id: r.id, at: r.at, actor: r.actor, action: r.action, target: r.target, address: r.address, data: r.data ?? null });
      if (expected !== r.hash) {
        return { ok: false, rows, brokenAt: r.id, head, message: `audit chain broken at row ${r.id}: stored hash does not match its content or predecessor` };
      }
      if (checkpoint && r.id === checkpoint.id) {
        if (r.hash !== checkpoint.hash) {
          return { ok: false, rows, brokenAt: r.id, head, message: `audit row ${r.id} differs from the checkpoint taken earlier: the log was rewritten` };
        }
        checkpointSeen = true;
      }
      prev = r.hash;
      head = { id: r.id, hash: r.hash };
      rows++;
      cursor = r.id;
    }
  }
  if (!checkpointSeen) {
    return {
      ok: false,
      rows,
      brokenAt: checkpoint!.id,
      head,
      message: `audit rows deleted: row ${checkpoint!.id} of the checkpoint is gone (the log now ends at ${head ? `row ${head.id}` : "no row"})`,
    };
  }
  return { ok: true, rows, brokenAt: null, head, message: `audit chain intact (${rows} rows${checkpoint ? `, checkpoint row ${checkpoint.id} present` : ""})` };
}
