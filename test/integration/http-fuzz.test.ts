import { afterAll, beforeAll, describe, expect, it } from "vitest";
import fc from "fast-check";
import { startTestPlatform, type TestPlatform } from "../support/platform.ts";

/** Arbitrary bodies to the routes that take input from outside: always a clear 4xx, never a 5xx. */
describe("HTTP bodies under fuzzing", () => {
  let platform: TestPlatform;
  beforeAll(async () => {
    platform = await startTestPlatform({ TELEPHONY_SECRET: "fuzz-test-telephony-secret-0123456789" });
  });
  afterAll(async () => {
    await platform?.close();
  });

  const anyJson = fc.oneof(
    fc.jsonValue(),
    fc.record({ username: fc.jsonValue(), password: fc.jsonValue() }, { requiredKeys: [] }),
    fc.record({ to: fc.oneof(fc.string(), fc.constantFrom("released", "closed", "on_scene")), at: fc.jsonValue(), lat: fc.jsonValue(), lng: fc.double() }, { requiredKeys: [] }),
    fc.record({ callerNumber: fc.oneof(fc.string(), fc.jsonValue()), openIncident: fc.jsonValue(), rescueCode: fc.string() }, { requiredKeys: [] }),
  );
  const send = async (path: string, raw: string) => {
    const res = await platform.fetch(path, { method: "POST", body: raw });
    const body = (await res.json().catch(() => null)) as { error?: { id?: string } } | null;
    return { status: res.status, body };
  };

  for (const path of ["/api/auth/login", "/api/incidents/1/transitions", "/api/calls", "/api/telephony/events"]) {
    it(`POST ${path}`, async () => {
      await fc.assert(
        fc.asyncProperty(fc.oneof(anyJson.map((v) => JSON.stringify(v) ?? "null"), fc.string()), async (raw) => {
          const { status, body } = await send(path, raw);
          expect(status, raw).toBeLessThan(500);
          if (status >= 400) expect(body?.error?.id, raw).toBeTypeOf("string");
        }),
        { numRuns: 60 },
      );
    });
  }

  it("refuses a body over 100 kB with 413", async () => {
    const { status, body } = await send("/api/calls", JSON.stringify({ notes: "x".repeat(120_000) }));
    expect(status).toBe(413);
    expect(body?.error?.id).toBe("payload_too_large");
  });
});
