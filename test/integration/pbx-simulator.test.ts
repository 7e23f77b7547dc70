import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestPlatform, type TestPlatform } from "../support/platform.ts";
import { connectConsole } from "../support/clients.ts";
import type { CallView } from "../../server/contracts/index.ts";

const run = promisify(execFile);

/** `npm run call` against a demo installation (no TELEPHONY_SECRET): the call rings on consoles. */
describe("PBX simulator against the demo webhook secret", () => {
  let platform: TestPlatform;
  let consoleClient: Awaited<ReturnType<typeof connectConsole>>;

  beforeAll(async () => {
    // DEMO_DATA on a seeded database loads nothing more; it turns the demo webhook secret on.
    platform = await startTestPlatform({ DEMO_DATA: "1" });
    consoleClient = await connectConsole(platform.baseUrl);
  });
  afterAll(async () => {
    consoleClient?.close();
    await platform?.close();
  });

  it("rings, answers and hangs up a call that carries the IVR's rescue code", async () => {
    const lift = await platform.db.prisma.elevator.findFirstOrThrow({ orderBy: { id: "asc" } });
    const { stdout } = await run(
      process.execPath,
      ["--import", "tsx", "devices/pbx-cli.ts", "--url", platform.baseUrl, "--caller", "13700000001", "--code", lift.rescueCode, "--answer-after", "0.1", "--hangup-after", "0.1"],
      { env: { ...process.env, TELEPHONY_SECRET: "" }, timeout: 20_000 },
    );
    expect(stdout).toMatch(/ringing[\s\S]*answered[\s\S]*ended/);
    const ringing = await consoleClient.waitFor<CallView>("call:ringing", (c) => c.callerNumber === "13700000001");
    expect(ringing.payload.rescueCode).toBe(lift.rescueCode);
    await consoleClient.waitFor<CallView>("call:ended", (c) => c.id === ringing.payload.id);
    const stored = await platform.db.prisma.call.findUniqueOrThrow({ where: { id: ringing.payload.id } });
    expect(stored.answeredAt).not.toBeNull();
    expect(stored.endedAt).not.toBeNull();
  });

  it("is refused with a wrong secret and says why", async () => {
    const failed = await run(process.execPath, ["--import", "tsx", "devices/pbx-cli.ts", "--url", platform.baseUrl, "--secret", "not-the-secret-0123456789"], {
      timeout: 20_000,
    }).catch((error: { code: number; stderr: string }) => error);
    expect("code" in failed && failed.code).toBe(1);
    expect((failed as { stderr: string }).stderr).toContain("401");
  });
});
