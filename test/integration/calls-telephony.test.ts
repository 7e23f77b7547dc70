import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestPlatform, type TestPlatform } from "../support/platform.ts";
import { connectConsole, sendTelephony } from "../support/clients.ts";
import type { CallView, IncidentView, LookupResult } from "../../server/contracts/index.ts";

const SECRET = "test-telephony-secret-96333";

/** Calls from the PBX webhook and from dispatchers, elevator lookup, and the webhook's authentication. */
describe("calls and identification", () => {
  let platform: TestPlatform;
  let consoleClient: Awaited<ReturnType<typeof connectConsole>>;

  beforeAll(async () => {
    platform = await startTestPlatform({ TELEPHONY_SECRET: SECRET });
    consoleClient = await connectConsole(platform.baseUrl);
  });
  afterAll(async () => {
    consoleClient?.close();
    await platform?.close();
  });

  const send = (body: unknown, options: Parameters<typeof sendTelephony>[3] = {}) => sendTelephony(platform.baseUrl, SECRET, body, options);
  const post = (path: string, body: unknown) =>
    platform.fetch(`${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  const someElevator = (skip = 0) =>
    platform.db.prisma.elevator.findFirstOrThrow({ orderBy: { id: "asc" }, skip, include: { site: true } });

  it("pops a ringing call on the console and answers a retry of the same event idempotently", async () => {
    const callId = `pbx-${Date.now()}`;
    const res = await send({ event: "ringing", callId, callerNumber: "13800138000", line: "96333-01" });
    expect(res.status).toBe(200);
    const first = (await res.json()) as { call: CallView; duplicate: boolean };
    expect(first.duplicate).toBe(false);
    const popped = await consoleClient.waitFor<CallView>("call:ringing", (c) => c.externalId === callId, 2000);
    expect(popped.payload.callerNumber).toBe("13800138000");

    // The PBX retries with a fresh timestamp (a new signature): same call, nothing changes.
    const retry = await send({ event: "ringing", callId, callerNumber: "13800138000", line: "96333-01" }, { timestamp: Math.floor(Date.now() / 1000) - 7 });
    expect(retry.status).toBe(200);
    expect(await retry.json()).toMatchObject({ duplicate: true, call: { id: first.call.id } });

    const answered = await send({ event: "answered", callId, agent: "agent-07" });
    expect((await answered.json()).call).toMatchObject({ agent: "agent-07", answeredAt: expect.any(String) });
    await consoleClient.waitFor<CallView>("call:answered", (c) => c.externalId === callId, 2000);
    const ended = await send({ event: "ended", callId, recordingRef: "rec/2026/11/27/x.wav" });
    expect((await ended.json()).call).toMatchObject({ recordingRef: "rec/2026/11/27/x.wav", endedAt: expect.any(String) });
    expect(await platform.db.prisma.call.count({ where: { externalId: callId } })).toBe(1);
  });

  it("refuses a bad signature, a stale timestamp, a replay and missing headers", async () => {
    const body = { event: "ringing", callId: `pbx-auth-${Date.now()}`, callerNumber: "13900000000" };
    const bad = await send(body, { secret: "another-secret-entirely" });
    expect(bad.status).toBe(401);
    expect((await bad.json()).error.id).toBe("bad_signature");

    const stale = await send(body, { timestamp: Math.floor(Date.now() / 1000) - 301 });
    expect(stale.status).toBe(401);
    expect((await stale.json()).error).toMatchObject({ id: "stale_timestamp", message: expect.stringContaining("300 s") });

    const raw = JSON.stringify(body);
    const timestamp = Math.floor(Date.now() / 1000);
    expect((await send(body, { raw, timestamp })).status).toBe(200);
    const replay = await send(body, { raw, timestamp });
    expect(replay.status).toBe(409);
    expect((await replay.json()).error.id).toBe("replayed");

    const unsigned = await platform.fetch(`/api/telephony/events`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: raw,
    });
    expect(unsigned.status).toBe(401);
    expect((await unsigned.json()).error.id).toBe("missing_headers");

    // Signed but invalid: the zod message names the field.
    const invalid = await send({ event: "picked_up", callId: "x" });
    expect(invalid.status).toBe(400);
    expect((await invalid.json()).error.message).toMatch(/event/);
  });

  it("turns a dispatcher's call for a known rescue code into an incident in one request", async () => {
    const elevator = await someElevator(10);
    const res = await post("/api/calls", {
      callerNumber: "139 1234 5678",
      rescueCode: elevator.rescueCode,
      openIncident: true,
      trappedCount: 2,
      autoDispatch: false,
      actor: { type: "user", id: "dispatcher-1" },
    });
    expect(res.status).toBe(201);
    const outcome = (await res.json()) as { call: CallView; incident: IncidentView; incidentCreated: boolean };
    expect(outcome.incidentCreated).toBe(true);
    expect(outcome.incident).toMatchObject({ source: "call", status: "reported", trappedCount: 2, elevator: { id: elevator.id } });
    expect(outcome.call).toMatchObject({ callerNumber: "13912345678", incidentId: outcome.incident.id, source: "manual" });
    await consoleClient.waitFor<IncidentView>("incident:created", (i) => i.id === outcome.incident.id, 2000);

    // A second call about the same elevator attaches to the open incident.
    const again = await post("/api/calls", { callerNumber: "13700000000", rescueCode: elevator.rescueCode, openIncident: true, autoDispatch: false });
    const second = (await again.json()) as { incident: IncidentView; incidentCreated: boolean };
    expect(second.incidentCreated).toBe(false);
    expect(second.incident.id).toBe(outcome.incident.id);
    const timeline = await (await platform.fetch(`/api/incidents/${outcome.incident.id}/timeline`)).json();
    expect(timeline.events.map((e: { type: string }) => e.type)).toEqual(["reported", "call_attached"]);
    expect(timeline.calls).toHaveLength(2);

    // The caller's history now identifies the elevator.
    const lookup = (await (await platform.fetch(`/api/elevators/lookup?q=13912345678`)).json()) as LookupResult;
    expect(lookup.kind).toBe("caller");
    expect(lookup.candidates[0]).toMatchObject({ id: elevator.id, match: "caller_history", openIncidentId: outcome.incident.id });
  });

  it("answers an unknown rescue code with a clear message and close matches, not an empty page", async () => {
    const elevator = await someElevator(20);
    const code = elevator.rescueCode;
    let unknown = code;
    for (let d = 0; d <= 9 && unknown === code; d++) {
      const candidate = code.slice(0, 5) + String(d);
      if (!(await platform.db.prisma.elevator.findUnique({ where: { rescueCode: candidate } }))) unknown = candidate;
    }
    const res = await platform.fetch(`/api/elevators/lookup?q=${unknown}`);
    expect(res.status).toBe(200);
    const lookup = (await res.json()) as LookupResult;
    expect(lookup.found).toBe(false);
    expect(lookup.message).toContain(unknown);
    expect(lookup.closeMatches.map((c) => c.rescueCode)).toContain(code);

    const open = await post("/api/calls", { callerNumber: "13600000000", rescueCode: unknown, openIncident: true });
    expect(open.status).toBe(404);
    const error = (await open.json()).error;
    expect(error.id).toBe("unknown_rescue_code");
    expect(error.details.closeMatches.map((c: { rescueCode: string }) => c.rescueCode)).toContain(code);
  });

  it("finds elevators by registration code, address fragment and building name", async () => {
    const elevator = await someElevator(30);
    const byReg = (await (await platform.fetch(`/api/elevators/lookup?q=${elevator.registrationCode}`)).json()) as LookupResult;
    expect(byReg).toMatchObject({ kind: "registration_code", found: true });
    expect(byReg.candidates[0]!.id).toBe(elevator.id);

    const fragment = elevator.site.address.replace(/^天津市/, "").slice(3);
    const byAddress = (await (await platform.fetch(`/api/elevators/lookup?q=${encodeURIComponent(fragment)}`)).json()) as LookupResult;
    expect(byAddress.kind).toBe("text");
    expect(byAddress.candidates.map((c) => c.site.id)).toContain(elevator.site.id);

    const byName = (await (await platform.fetch(`/api/elevators/lookup?q=${encodeURIComponent(elevator.site.name)}`)).json()) as LookupResult;
    expect(byName.candidates[0]!.site.name).toBe(elevator.site.name);

    const empty = await platform.fetch(`/api/elevators/lookup`);
    expect(empty.status).toBe(400);
    expect((await empty.json()).error.message).toMatch(/give q/);
  });

  it("validates manual calls with clear messages", async () => {
    const res = await post("/api/calls", { callerNumber: "abc", openIncident: true });
    expect(res.status).toBe(400);
    const message = (await res.json()).error.message as string;
    expect(message).toMatch(/callerNumber: a phone number/);
    expect(message).toMatch(/openIncident needs rescueCode or elevatorId/);
  });
});
