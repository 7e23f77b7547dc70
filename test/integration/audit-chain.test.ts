import { execFile } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { startTestPlatform } from "../support/platform.ts";
import { createTestDatabase } from "../support/database.ts";
import { login } from "../support/clients.ts";
import { verifyAuditChain } from "../../server/audit/log.ts";
import { createAuditRepository } from "../../server/audit/repository.ts";

const run = promisify(execFile);

/** The audit log's hash chain: intact after real actions, broken by any edit, and the CLI says so. */
describe("audit chain", () => {
  it("refuses updates, detects tampering, and npm run audit:verify fails on it", async () => {
    const database = await createTestDatabase();
    try {
      const platform = await startTestPlatform({}, { database });
      try {
        await login(platform.baseUrl, "dispatcher");
        await login(platform.baseUrl, "admin");
        const res = await platform.fetch("/api/calls", { method: "POST", body: JSON.stringify({ callerNumber: "13800000001" }) });
        expect(res.status).toBe(201);
        const intact = await verifyAuditChain(createAuditRepository(platform.db.prisma));
        expect(intact).toMatchObject({ ok: true });
        expect(intact.rows).toBeGreaterThanOrEqual(3);

        // The trigger refuses edits...
        await expect(platform.db.raw.exec(`UPDATE audit_log SET actor = 'mallory'`)).rejects.toThrow(/append-only/);
        await expect(platform.db.raw.exec(`DELETE FROM audit_log`)).rejects.toThrow(/append-only/);
        // ...and someone who can switch it off is still caught by the chain.
        await platform.db.raw.exec(
          `ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_change;
           UPDATE audit_log SET actor = 'mallory' WHERE id = (SELECT min(id) FROM audit_log);
           ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_change;`,
        );
        const broken = await verifyAuditChain(createAuditRepository(platform.db.prisma));
        expect(broken.ok).toBe(false);
        expect(broken.brokenAt).not.toBeNull();
      } finally {
        await platform.stop();
      }
      // The CLI against the same database (after the server let go of it).
      const cli = await run("npx", ["tsx", "server/audit/verify-cli.ts"], { env: { ...process.env, DATABASE_URL: database.url } }).then(
        (r) => ({ code: 0, out: r.stdout }),
        (e: { code: number; stdout: string }) => ({ code: e.code, out: e.stdout }),
      );
      expect(cli.code).toBe(1);
      expect(cli.out).toMatch(/broken at row/);
    } finally {
      await database.drop();
    }
  }, 60_000);

  it("detects the newest rows deleted, against a checkpoint kept outside the database", async () => {
    const database = await createTestDatabase();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "audit-checkpoint-"));
    const checkpointFile = path.join(dir, "checkpoint.json");
    const verify = () =>
      run("npx", ["tsx", "server/audit/verify-cli.ts", "--checkpoint", checkpointFile], { env: { ...process.env, DATABASE_URL: database.url } }).then(
        (r) => ({ code: 0, out: r.stdout }),
        (e: { code: number; stdout: string }) => ({ code: e.code, out: e.stdout }),
      );
    try {
      let platform = await startTestPlatform({}, { database });
      try {
        await login(platform.baseUrl, "dispatcher");
        await login(platform.baseUrl, "admin");
      } finally {
        await platform.stop();
      }
      // First run: intact, and the newest row is kept as the checkpoint.
      expect(await verify()).toMatchObject({ code: 0 });
      const checkpoint = JSON.parse(fs.readFileSync(checkpointFile, "utf8")) as { id: number };

      platform = await startTestPlatform({}, { database });
      try {
        await login(platform.baseUrl, "supervisor");
        // Cutting the newest rows off leaves a chain that still links up: only the checkpoint shows it.
        await platform.db.raw.exec(
          `ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_change;
           DELETE FROM audit_log WHERE id >= ${checkpoint.id};
           ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_change;`,
        );
        expect(await verifyAuditChain(createAuditRepository(platform.db.prisma))).toMatchObject({ ok: true });
        const caught = await verifyAuditChain(createAuditRepository(platform.db.prisma), JSON.parse(fs.readFileSync(checkpointFile, "utf8")));
        expect(caught).toMatchObject({ ok: false, brokenAt: checkpoint.id });
        expect(caught.message).toMatch(/audit rows deleted/);
      } finally {
        await platform.stop();
      }
      const cli = await verify();
      expect(cli.code).toBe(1);
      expect(cli.out).toMatch(/audit rows deleted: row \d+ of the checkpoint is gone/);
    } finally {
      await database.drop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
