import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../server/platform/config.ts";
import { startTestPlatform, type TestPlatform } from "../support/platform.ts";
import { login } from "../support/clients.ts";

/** Production defaults: demo data only when asked, demo secrets refused, sign-in limits per address, /metrics. */

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
