import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestPlatform, type TestPlatform } from "../support/platform.ts";
import { connectConsole } from "../support/clients.ts";
import { signTelephony } from "../../server/calls/signature.ts";
import type { CallView, IncidentView, MassEventView, TimelineView } from "../../server/contracts/index.ts";

const SECRET = "story-telephony-secret-96333";

/**
 * A call's full story with known times: a ringing call, answered, identified, an incident opened,
 * every lifecycle step with explicit times, the passenger callback and follow-up call, closing with a
 * cause; the intervals of the timeline must come out exactly. Then the refusals and mass events.
 */
describe("incident lifecycle over REST", () => {
  let platform: TestPlatform;
  let consoleClient: Awaited<ReturnType<typeof connectConsole>>;

  beforeAll(async () => {
    platform = await startTestPlatform({ TELEPHONY_SECRET: SECRET, MASS_EVENT_SITE_MIN: "3" });
    consoleClient = await connectConsole(platform.baseUrl);
  });
  afterAll(async () => {
    consoleClient?.close();
    await platform?.close();
  });

  const post = (path: string, body: unknown) =>
    platform.fetch(`${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  const telephony = (body: unknown) => {
    const raw = JSON.stringify(body);
    const ts = String(Math.floor(Date.now() / 1000));
    return platform.fetch(`/api/telephony/events`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-timestamp": ts, "x-signature": `sha256=${signTelephony(SECRET, ts, raw)}` },
      body: raw,
    });
  };

  it("runs a ringing call to a closed incident, with the intervals computed from known times", async () => {
    const elevator = await platform.db.prisma.elevator.findFirstOrThrow({ orderBy: { id: "asc" }, skip: 50 });
    // Far enough back for every step, close enough that the 30-minute arrival deadline is still ahead.
    const base = Math.floor(Date.now() / 1000) * 1000 - 26 * 60_000;
    const t = (s: number) => new Date(base + s * 1000).toISOString();
    const callId = `story-${Date.now()}`;

    expect((await telephony({ event: "ringing", callId, callerNumber: "13512345678", line: "96333-02", at: t(0) })).status).toBe(200);
    await consoleClient.waitFor<CallView>("call:ringing", (c) => c.externalId === callId);
    const answered = await telephony({ event: "answered", callId, agent: "agent-03", at: t(20) });
    const call = ((await answered.json()) as { call: CallView }).call;

    const opened = await post(`/api/calls/${call.id}/incident`, {
      rescueCode: elevator.rescueCode,
      trappedCount: 3,
      autoDispatch: false,
      actor: { type: "user", id: "agent-03" },
    });
    expect(opened.status).toBe(201);
    const { incident } = (await opened.json()) as { incident: IncidentView };
    expect(incident.reportedAt).toBe(t(20)); // first report = call answered
    const id = incident.id;

    const step = async (to: string, s: number, extra: Record<string, unknown> = {}) => {
      const res = await post(`/api/incidents/${id}/transitions`, { to, at: t(s), ...extra });
      expect(res.status, `${to}: ${await res.clone().text()}`).toBe(200);
      return ((await res.json()) as { incident: IncidentView }).incident;
    };
    await step("dispatched", 80, { actor: { type: "user", id: "agent-03" } });
    expect((await post(`/api/incidents/${id}/steps`, { type: "passenger_callback", at: t(100), outcome: "reassured", note: "已安抚, 3人被困" })).status).toBe(201);
    await step("accepted", 140, { actor: { type: "team", id: "team-1" } });
    await step("en_route", 200, { actor: { type: "team", id: "team-1" }, lat: 39.1, lng: 117.2 });
    await step("on_scene", 800, { actor: { type: "team", id: "team-1" }, lat: 39.11, lng: 117.21 });
    await step("released", 1100, { actor: { type: "team", id: "team-1" }, trappedCount: 3, injuredCount: 0 });

    // Closing without a cause is refused; with one it closes.
    const noCause = await post(`/api/incidents/${id}/transitions`, { to: "closed", at: t(1400) });
    expect(noCause.status).toBe(400);
    expect((await noCause.json()).error).toMatchObject({ id: "cause_required", message: expect.stringContaining("causeClass") });
    const closed = await step("closed", 1500, { causeClass: "equipment", causeText: "门锁回路故障" });
    expect(closed).toMatchObject({ status: "closed", causeClass: "equipment", causeText: "门锁回路故障", trappedCount: 3, injuredCount: 0 });
    await consoleClient.waitFor<IncidentView>("incident:updated", (i) => i.id === id && i.status === "closed");
    await consoleClient.waitFor<{ incidentId: number; toStatus: string }>("incident:timeline", (e) => e.incidentId === id && e.toStatus === "closed");

    expect((await post(`/api/incidents/${id}/steps`, { type: "follow_up", at: t(1520), outcome: "satisfied" })).status).toBe(201);

    const timeline = (await (await platform.fetch(`/api/incidents/${id}/timeline`)).json()) as TimelineView;
    expect(timeline.intervals).toEqual({
      callProcessingS: 60, // dispatched 80 - answered 20
      acceptanceS: 60,
      travelS: 600,
      arrivalS: 780, // on_scene 800 - first report 20
      extricationS: 300,
      entrapmentS: 1080,
    });
    expect(timeline.events.map((e) => e.type)).toEqual([
      "reported",
      "transition",
      "passenger_callback",
      "transition",
      "transition",
      "transition",
      "transition",
      "transition",
      "follow_up",
    ]);
    expect(timeline.events.find((e) => e.toStatus === "on_scene")).toMatchObject({ actorType: "user", actorId: "dispatcher", lat: 39.11, lng: 117.21 }); // the session, not the body
    expect(timeline.calls.map((c) => c.externalId)).toEqual([callId]);
  });

  it("refuses an invalid transition with 409 and the allowed next steps, and bad input with 400", async () => {
    const elevator = await platform.db.prisma.elevator.findFirstOrThrow({ orderBy: { id: "asc" }, skip: 60 });
    const { incident } = (await (
      await post("/api/calls", { callerNumber: "13000000001", rescueCode: elevator.rescueCode, openIncident: true, autoDispatch: false })
    ).json()) as { incident: IncidentView };

    const jump = await post(`/api/incidents/${incident.id}/transitions`, { to: "on_scene" });
    expect(jump.status).toBe(409);
    const body = await jump.json();
    expect(body.error).toMatchObject({ id: "invalid_transition", details: { from: "reported", to: "on_scene" } });
    expect(body.error.details.allowed).toEqual(["dispatched", "released", "cancelled", "false_alarm"]);

    const bad = await post(`/api/incidents/${incident.id}/transitions`, { to: "teleported" });
    expect(bad.status).toBe(400);
    expect((await bad.json()).error).toMatchObject({ id: "validation_failed", message: expect.stringMatching(/^invalid body: to: .*dispatched/) });
    const halfPosition = await post(`/api/incidents/${incident.id}/transitions`, { to: "dispatched", lat: 39 });
    expect(halfPosition.status).toBe(400);
    expect((await halfPosition.json()).error.message).toMatch(/lat: give lat and lng together/);

    const future = await post(`/api/incidents/${incident.id}/transitions`, { to: "dispatched", at: new Date(Date.now() + 3600_000).toISOString() });
    expect(future.status).toBe(400);
    const noReason = await post(`/api/incidents/${incident.id}/transitions`, { to: "false_alarm" });
    expect((await noReason.json()).error.id).toBe("reason_required");

    expect((await post(`/api/incidents/999999/transitions`, { to: "dispatched" })).status).toBe(404);
    expect((await post(`/api/incidents/${incident.id}/steps`, { type: "follow_up" })).status).toBe(409);
    const fa = await post(`/api/incidents/${incident.id}/transitions`, { to: "false_alarm", reason: "乘客已自行离开" });
    expect(fa.status).toBe(200);
    const after = await post(`/api/incidents/${incident.id}/transitions`, { to: "dispatched" });
    expect(after.status).toBe(409);
    expect((await after.json()).error.details.allowed).toEqual([]);
  });

  it("groups several elevators of one site failing together under a mass event handled as one", async () => {
    const site = await platform.db.prisma.site.findFirstOrThrow({
      where: { elevators: { some: {} } },
      orderBy: { elevators: { _count: "desc" } },
      include: { elevators: { orderBy: { id: "asc" }, take: 3 } },
    });
    expect(site.elevators.length).toBe(3);
    const ids: number[] = [];
    for (const e of site.elevators) {
      const res = await post("/api/calls", { callerNumber: "13100000000", elevatorId: e.id, openIncident: true, autoDispatch: false });
      ids.push(((await res.json()) as { incident: IncidentView }).incident.id);
    }
    // Grouping runs after each opening's commit: the console hears of it.
    const pushed = await consoleClient.waitFor<MassEventView>("mass-event:updated", (m) => m.siteId === site.id, 5000);
    const list = (await (await platform.fetch(`/api/mass-events`)).json()) as MassEventView[];
    const mass = list.find((m) => m.siteId === site.id);
    expect(mass).toMatchObject({ id: pushed.payload.id, kind: "building" });
    expect(mass!.incidentIds).toEqual(ids);

    // One of them is already further along: the batch applies where allowed and reports the rest.
    expect((await post(`/api/incidents/${ids[0]}/transitions`, { to: "released" })).status).toBe(200);
    const res = await post(`/api/mass-events/${mass!.id}/transitions`, { to: "dispatched", reason: "停电, 统一派单" });
    expect(res.status).toBe(200);
    const result = await res.json();
    expect(result.applied).toEqual(ids.slice(1));
    expect(result.refused).toEqual([expect.objectContaining({ incidentId: ids[0], status: "released", allowed: ["closed"] })]);
    expect(result.massEvent.statusCounts).toEqual({ released: 1, dispatched: 2 });
  });

  it("links a report soon after the last incident ended to it", async () => {
    const elevator = await platform.db.prisma.elevator.findFirstOrThrow({ orderBy: { id: "asc" }, skip: 70 });
    const first = ((await (await post("/api/calls", { callerNumber: "13200000000", elevatorId: elevator.id, openIncident: true, autoDispatch: false })).json()) as {
      incident: IncidentView;
    }).incident;
    await post(`/api/incidents/${first.id}/transitions`, { to: "cancelled", reason: "误拨" });
    const second = (await (await post("/api/calls", { callerNumber: "13200000000", elevatorId: elevator.id, openIncident: true, autoDispatch: false })).json()) as {
      incident: IncidentView;
      incidentCreated: boolean;
    };
    expect(second.incidentCreated).toBe(true);
    const timeline = (await (await platform.fetch(`/api/incidents/${second.incident.id}/timeline`)).json()) as TimelineView;
    expect(timeline.events[0]!.data).toMatchObject({ repeatOf: first.id });
    const old = (await (await platform.fetch(`/api/incidents/${first.id}/timeline`)).json()) as TimelineView;
    expect(old.events.at(-1)).toMatchObject({ type: "repeat_report", data: { newIncidentId: second.incident.id } });
  });
});
