import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startChildServer, type ChildServer } from "../support/child-server.ts";
import { MOSQUITTO, REDIS_SERVER, startMosquitto, startRedis, type OwnedService } from "../support/services.ts";
import { skipReason } from "../support/skip.ts";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const ENTRY = ["dist/server/main.js"];
const CLOCK_TICKS_PER_S = 100;

/** CPU seconds used so far (user + system, from /proc): the whole process, or one thread of it. */
function cpuSeconds(pid: number, thread?: number): number {
  const file = thread === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${thread}/stat`;
  const fields = fs.readFileSync(file, "utf8").split(") ")[1]!.split(" ");
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_S;
}

const missing = skipReason(
  !MOSQUITTO || !REDIS_SERVER ? "mosquitto and redis-server are needed to stop a broker and Redis under the server" : null,
);

/**
 * `npm run build` then `npm run start:prod`: the compiled server starts without tsx or Vite, and SIGTERM ends
 * it within 10 s even when the broker and Redis it uses are already gone.
 */
describe("production build", () => {
  beforeAll(() => {
    // The real build script: a build that only works in the test would prove nothing.
    execFileSync("npm", ["run", "--silent", "build:server"], { cwd: ROOT, stdio: "pipe" });
  }, 600_000);

  it("starts from compiled JavaScript in under 5 s of main-thread CPU", async () => {
    expect(fs.existsSync(path.join(ROOT, "dist/server/main.js"))).toBe(true);
    expect(fs.existsSync(path.join(ROOT, "dist/prisma/migrations"))).toBe(true);
    const server = await startChildServer({ entry: ENTRY });
    try {
      const pid = server.process.pid!;
      const mainThread = cpuSeconds(pid, pid);
      const wallS = (server.readyAt - server.spawnedAt) / 1000;
      console.log(
        `[figure] compiled server ready: main thread ${mainThread.toFixed(2)} s CPU, all threads ${cpuSeconds(pid).toFixed(2)} s ` +
          `(PGlite's WebAssembly compiles beside it), ${wallS.toFixed(2)} s wall (load average ${os.loadavg()[0]!.toFixed(1)})`,
      );
      // The start's critical path is the main thread; on a shared machine the wall clock measures the neighbours.
      expect(mainThread).toBeLessThan(5);
      const health = await server.get<{ status: string }>("/api/health");
      expect(health.status).toBe("ok");
      const cmdline = fs.readFileSync(`/proc/${server.process.pid}/cmdline`, "utf8");
      expect(cmdline).not.toMatch(/tsx|vite/);
    } finally {
      await server.close();
    }
  }, 120_000);

  describe.skipIf(missing)("SIGTERM", () => {
    let broker: OwnedService;
    let redis: OwnedService;
    let server: ChildServer;
    let dir: string;

    beforeAll(async () => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), "lift96333-drain-"));
      broker = await startMosquitto((port) => `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\n`, dir);
      redis = await startRedis();
      server = await startChildServer({
        entry: ENTRY,
        env: { MQTT_URL: `mqtt://127.0.0.1:${broker.port}`, REDIS_URL: `redis://127.0.0.1:${redis.port}` },
      });
    }, 120_000);

    afterAll(async () => {
      await server?.close();
      await broker?.kill();
      await redis?.kill();
      if (dir) fs.rmSync(dir, { recursive: true, force: true });
    });

    it("exits within 10 s after the broker and Redis died under it", async () => {
      await broker.kill("SIGKILL");
      await redis.kill("SIGKILL");
      // Long enough for the clients to notice and start reconnecting.
      await new Promise((r) => setTimeout(r, 1500));
      expect(server.process.exitCode, server.output()).toBeNull();
      const started = Date.now();
      server.process.kill("SIGTERM");
      const exit = await server.waitForExit(15_000);
      const tookS = (Date.now() - started) / 1000;
      console.log(`[figure] SIGTERM with broker and Redis gone: exit ${exit.code} after ${tookS.toFixed(2)} s`);
      expect(tookS).toBeLessThan(10);
      expect(exit.signal).toBeNull();
    }, 60_000);
  });
});
