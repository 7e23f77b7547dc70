import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { loadConfig } from "../../server/platform/config.ts";
import { startTestPlatform, type TestPlatform } from "../support/platform.ts";
import { login } from "../support/clients.ts";

/** Production defaults: demo data only when asked, demo secrets refused, the first admin, sign-in limits, /metrics. */

describe("demo data and production starts", () => {
  it("loads demo data unasked only into the embedded database outside production", () => {
    expect(loadConfig({}).demo.load).toBe(true);
    expect(loadConfig({ DATABASE_URL: "pglite:memory" }).demo.load).toBe(true);
    expect(loadConfig({ DATABASE_URL: "postgresql://db.example/lift" }).demo.load).toBe(false);
    expect(loadConfig({ NODE_ENV: "production" }).demo.load).toBe(false);
    expect(loadConfig({ DATABASE_URL: "postgresql://db.example/lift", DEMO_DATA: "1" }).demo.load).toBe(true);
    expect(loadConfig({ DEMO_DATA: "0" }).demo.load).toBe(false);
  });

  it("refuses a production start while demo secrets are in use, saying which", { timeout: 120_000 }, async () => {
    // The test database holds the demo city: its accounts, devices and (unset) telephony secret.
    const start = startTestPlatform({ NODE_ENV: "production", TELEPHONY_SECRET: "a-telephony-secret-of-our-own" });
    const error = (await start.then(
      (platform) => platform.close().then(() => null),
      (e: unknown) => e as Error,
    )) as Error | null;
    expect(error?.message).toMatch(/NODE_ENV=production refuses demo secrets/);
    expect(error?.message).toMatch(/account\(s\) use the public demo password \(dispatcher, supervisor, admin/);
    expect(error?.message).toMatch(/device\(s\) have a secret derived from the public demo key \(e\.g\. tj-/);
    expect(error?.message).not.toMatch(/telephony/);
  });

  it("creates the first admin from ADMIN_PASSWORD once, on a database without one", { timeout: 240_000 }, async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "lift96333-first-admin-"));
    try {
      const env = { DATABASE_URL: `pglite:${dir}`, ADMIN_USERNAME: "ops-admin", ADMIN_PASSWORD: "first-admin-secret" };
      const first = await startTestPlatform(env);
      try {
        const cookie = await login(first.baseUrl, "ops-admin", "first-admin-secret");
        const me = await (await fetch(`${first.baseUrl}/api/auth/me`, { headers: { cookie } })).json();
        expect(me).toMatchObject({ username: "ops-admin", role: "admin" });
        expect(await first.db.prisma.user.count()).toBe(1);
      } finally {
        await first.close();
      }
      // Once: a second start with another password leaves the admin as it is.
      const second = await startTestPlatform({ ...env, ADMIN_PASSWORD: "another-admin-secret" });
      try {
        expect(await second.db.prisma.user.count()).toBe(1);
        await expect(login(second.baseUrl, "ops-admin", "another-admin-secret")).rejects.toThrow(/401/);
      } finally {
        await second.close();
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("creates an admin with npm run admin:create", { timeout: 240_000 }, async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "lift96333-admin-cli-"));
    try {
      const run = (args: string[]) =>
        new Promise<{ code: number | null; out: string }>((resolve) => {
          const child = spawn(process.execPath, ["--import", "tsx", "server/auth/admin-cli.ts", ...args], {
            env: { ...process.env, DATABASE_URL: `pglite:${dir}`, ADMIN_PASSWORD: "cli-admin-secret" },
            stdio: ["ignore", "pipe", "pipe"],
          });
          let out = "";
          child.stdout.on("data", (d) => (out += d));
          child.stderr.on("data", (d) => (out += d));
          child.on("exit", (code) => resolve({ code, out }));
        });
      const made = await run(["--username", "night-admin"]);
      expect(made.out).toMatch(/admin account night-admin created/);
      expect(made.code).toBe(0);
      const again = await run(["--username", "night-admin"]);
      expect(again.code).toBe(1);
      expect(again.out).toMatch(/exists already/);
      const platform = await startTestPlatform({ DATABASE_URL: `pglite:${dir}` });
      try {
        const cookie = await login(platform.baseUrl, "night-admin", "cli-admin-secret");
        expect(cookie).toMatch(/^lift96333_session=/);
      } finally {
        await platform.close();
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("sign-in limits per address and /metrics access", () => {
  let platform: TestPlatform;
  const METRICS_TOKEN = "metrics-token-0123456789abcdef";
  beforeAll(async () => {
    platform = await startTestPlatform({ LOGIN_FAILURES_PER_IP: "3", METRICS_TOKEN });
  });
  afterAll(async () => {
    await platform?.close();
  });

  it("refuses an address after its failures, whichever accounts it tried, with Retry-After", async () => {
    const attempt = (username: string, password: string) =>
      fetch(`${platform.baseUrl}/api/auth/login`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ username, password }) });
    for (const username of ["dispatcher", "supervisor", "nobody-here"]) expect((await attempt(username, "wrong-password")).status).toBe(401);
    const limited = await attempt("admin", "demo96333");
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
    // The store every process shares says the same.
    if (platform.database.kind === "postgres" && !process.env.TEST_REDIS_URL) {
      const rows = await platform.db.prisma.loginLimit.findMany();
      expect(rows.some((r) => r.points >= 3)).toBe(true);
    }
  });

  it("serves /metrics only with the bearer token", async () => {
    expect((await fetch(`${platform.baseUrl}/metrics`)).status).toBe(401);
    expect((await fetch(`${platform.baseUrl}/metrics`, { headers: { authorization: "Bearer not-the-token-at-all" } })).status).toBe(401);
    const ok = await fetch(`${platform.baseUrl}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toMatch(/lift96333_ingest_messages/);
  });
});
