import fs from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestPlatform, type TestPlatform } from "../support/platform.ts";
import { openOrAttachIncident } from "../../server/incidents/repository/writes.ts";
import { entryDelayS, MAX_PHOTO_BYTES, type IncidentView, type PhotoView, type TimelineEventView } from "../../server/contracts/index.ts";

/**
 * The rescuer phone app's endpoints on the real server: actions under idempotency keys (a replay changes
 * nothing), another team's offer refused with 403, times checked against the offer and the clock, late
 * entries keeping both times, positions checked for range, accuracy, jumps and rate, photos checked for
 * size and type and shown on the timeline.
 */
describe("field app API", () => {
  let platform: TestPlatform;
  let teamId: number;
  let offerId: number;
  let incidentId: number;
  let site: { lat: number; lng: number };
  let keySeq = 0;
  const key = () => `test-key-${Date.now()}-${++keySeq}`.padEnd(20, "x");

  beforeAll(async () => {
    platform = await startTestPlatform({ SLA_TICK_MS: "60000", ARRIVAL_RADIUS_M: "300" });
    const rescuer = await platform.db.prisma.user.findUniqueOrThrow({ where: { username: "rescuer1" } });
    teamId = rescuer.teamId!;
    const team = await platform.db.prisma.team.findUniqueOrThrow({ where: { id: teamId } });
    const elevator = await platform.db.prisma.elevator.findFirstOrThrow({
      where: { maintenanceCompanyId: team.maintenanceCompanyId ?? undefined },
      include: { site: true },
      orderBy: { id: "asc" },
    });
    site = { lat: elevator.site.lat, lng: elevator.site.lng };
    incidentId = (
      await platform.db.prisma.$transaction((tx) =>
        openOrAttachIncident(tx, { elevatorId: elevator.id, kind: "entrapment", source: "manual", reportedAt: new Date(Date.now() - 20 * 60_000), actor: { type: "user", id: "test" } }),
      )
    ).incidentId;
    const sent = await post(`/api/incidents/${incidentId}/offers`, { teamId, reason: "field app test" }, "dispatcher");
    expect(sent.status, JSON.stringify(sent.body)).toBe(201);
    offerId = (sent.body as IncidentView).offers.find((o) => o.teamId === teamId)!.id;
    // The offer went out ten minutes ago: the phone's late actions lie between it and now.
    await platform.db.prisma.dispatchOffer.update({ where: { id: offerId }, data: { offeredAt: new Date(Date.now() - 10 * 60_000) } });
  });
  afterAll(async () => {
    await platform?.close();
  });

  async function post(path: string, body: unknown, as = "rescuer1") {
    const res = await platform.fetch(path, { method: "POST", body: JSON.stringify(body) }, as);
    return { status: res.status, body: (await res.json()) as any };
  }
  const events = async () => ((await (await platform.fetch(`/api/incidents/${incidentId}/events`)).json()) as TimelineEventView[]);
  const ago = (s: number) => new Date(Date.now() - s * 1000).toISOString();

  it("tells the phone its team and rules", async () => {
    const res = await platform.fetch("/api/field/me", {}, "rescuer1");
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ team: { id: teamId }, arrivalRadiusM: 300 });
    expect((await platform.fetch("/api/field/me", {}, "dispatcher")).status).toBe(403);
  });

  it("refuses another team's offer with 403 and changes nothing", async () => {
    const other = await post("/api/field/actions", { key: key(), kind: "accept", offerId, at: ago(1) }, "rescuer2");
    expect(other.status).toBe(403);
    expect(other.body.error.id).toBe("not_your_team");
    const note = await post("/api/field/actions", { key: key(), kind: "note", offerId, at: ago(1), text: "not mine" }, "rescuer2");
    expect(note.status).toBe(403);
    expect((await post("/api/field/actions", { key: key(), kind: "accept", offerId: 999_999, at: ago(1) })).status).toBe(404);
    expect((await platform.db.prisma.dispatchOffer.findUniqueOrThrow({ where: { id: offerId } })).status).toBe("offered");
    expect((await events()).some((e) => e.type === "offer_accepted" || e.type === "note")).toBe(false);
  });

  it("refuses times in the future or before the offer, and bad keys", async () => {
    const future = await post("/api/field/actions", { key: key(), kind: "accept", offerId, at: new Date(Date.now() + 10 * 60_000).toISOString() });
    expect(future.status).toBe(400);
    expect(future.body.error.id).toBe("time_in_future");
    const early = await post("/api/field/actions", { key: key(), kind: "accept", offerId, at: ago(3600) });
    expect(early.status).toBe(400);
    expect(early.body.error.id).toBe("time_before_offer");
    expect((await post("/api/field/actions", { key: "short", kind: "accept", offerId, at: ago(1) })).status).toBe(400);
    expect((await post("/api/field/actions", { key: key(), kind: "fly", offerId, at: ago(1) })).status).toBe(400);
    expect((await platform.db.prisma.dispatchOffer.findUniqueOrThrow({ where: { id: offerId } })).status).toBe("offered");
  });

  it("records an accept taken offline at its own time, once, however often it is replayed", async () => {
    const k = key();
    const takenAt = ago(300);
    const first = await post("/api/field/actions", { key: k, kind: "accept", offerId, at: takenAt });
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    expect(first.body.incident.status).toBe("accepted");
    const replays = await Promise.all([1, 2, 3].map(() => post("/api/field/actions", { key: k, kind: "accept", offerId, at: takenAt })));
    for (const replay of replays) {
      expect(replay.status).toBe(409);
      expect(replay.body.error.id).toBe("already_recorded");
    }
    // The same key for a different action is a client bug, not a replay.
    expect((await post("/api/field/actions", { key: k, kind: "depart", offerId, at: ago(1) })).status).toBe(422);
    const accepted = (await events()).filter((e) => e.type === "offer_accepted");
    expect(accepted).toHaveLength(1);
    expect(accepted[0]!.at).toBe(new Date(takenAt).toISOString());
    expect(entryDelayS(accepted[0]!)).toBeGreaterThanOrEqual(299);
    const offer = await platform.db.prisma.dispatchOffer.findUniqueOrThrow({ where: { id: offerId } });
    expect(offer.respondedAt?.toISOString()).toBe(new Date(takenAt).toISOString());
    const stored = await platform.db.prisma.fieldAction.findUniqueOrThrow({ where: { key: k } });
    expect(stored.happenedAt.toISOString()).toBe(new Date(takenAt).toISOString());
    expect(stored.receivedAt.getTime()).toBeGreaterThan(Date.now() - 60_000);
  });

  it("checks positions for range, accuracy and jumps, and limits their rate", async () => {
    const at = () => new Date().toISOString();
    const outside = await post("/api/field/position", { lat: 48.85, lng: 2.35, accuracyM: 10, at: at() });
    expect(outside.status).toBe(422);
    expect(outside.body.error.id).toBe("outside_china");
    const vague = await post("/api/field/position", { ...site, accuracyM: 800, at: at() });
    expect(vague.status).toBe(422);
    expect(vague.body.error.id).toBe("accuracy_too_low");
    const future = await post("/api/field/position", { ...site, accuracyM: 10, at: new Date(Date.now() + 600_000).toISOString() });
    expect(future.status).toBe(400);
    const good = await post("/api/field/position", { lat: site.lat + 0.02, lng: site.lng, accuracyM: 15, at: at() });
    expect(good.status, JSON.stringify(good.body)).toBe(200);
    expect(good.body.lat).toBeCloseTo(site.lat + 0.02, 6);
    await new Promise((r) => setTimeout(r, 20));
    const jump = await post("/api/field/position", { lat: site.lat + 0.5, lng: site.lng, accuracyM: 15, at: at() });
    expect(jump.status).toBe(422);
    expect(jump.body.error.id).toBe("position_jump");
    expect(platform.dispatch.teams.view(teamId)!.lat).toBeCloseTo(site.lat + 0.02, 6);
    const statuses: number[] = [];
    for (let i = 1; i <= 6; i++) {
      await new Promise((r) => setTimeout(r, 5));
      statuses.push((await post("/api/field/position", { lat: site.lat + 0.02 - i * 0.0001, lng: site.lng, accuracyM: 15, at: at() })).status);
    }
    expect(statuses).toContain(429);
    expect(statuses.filter((s) => s !== 200 && s !== 429)).toEqual([]);
  });

  it("departs, refuses arrival far away with the distance, accepts it near", async () => {
    const depart = await post("/api/field/actions", { key: key(), kind: "depart", offerId, at: ago(240) });
    expect(depart.status, JSON.stringify(depart.body)).toBe(200);
    expect(depart.body.incident.status).toBe("en_route");
    const far = await post("/api/field/actions", { key: key(), kind: "arrive", offerId, at: ago(1), position: { lat: site.lat + 0.009, lng: site.lng, accuracyM: 10 } });
    expect(far.status).toBe(422);
    expect(far.body.error.id).toBe("not_at_site");
    expect(far.body.error.details.distanceM).toBeGreaterThan(900);
    const near = await post("/api/field/actions", { key: key(), kind: "arrive", offerId, at: ago(1), position: { lat: site.lat + 0.0009, lng: site.lng, accuracyM: 10 } });
    expect(near.status, JSON.stringify(near.body)).toBe(200);
    expect(near.body.incident.status).toBe("on_scene");
  });

  it("takes photos of the accepted types and sizes only, and shows them on the timeline", async () => {
    const png = fs.readFileSync("client/public/field-icon-192.png");
    const position = { lat: site.lat, lng: site.lng, accuracyM: 8 };
    const notImage = await post("/api/field/photos", { key: key(), offerId, at: ago(1), contentType: "image/png", data: Buffer.from("%PDF-1.4 not a photo").toString("base64") });
    expect(notImage.status).toBe(415);
    expect(notImage.body.error.id).toBe("not_an_image");
    const wrongType = await post("/api/field/photos", { key: key(), offerId, at: ago(1), contentType: "image/jpeg", data: png.toString("base64") });
    expect(wrongType.status).toBe(415);
    const big = Buffer.concat([png, Buffer.alloc(MAX_PHOTO_BYTES)]);
    const tooBig = await post("/api/field/photos", { key: key(), offerId, at: ago(1), contentType: "image/png", data: big.toString("base64") });
    expect(tooBig.status).toBe(413);
    expect(tooBig.body.error.id).toBe("photo_too_large");
    const other = await post("/api/field/photos", { key: key(), offerId, at: ago(1), contentType: "image/png", data: png.toString("base64") }, "rescuer2");
    expect(other.status).toBe(403);
    const k = key();
    const ok = await post("/api/field/photos", { key: k, offerId, at: ago(2), position, contentType: "image/png", data: png.toString("base64") });
    expect(ok.status, JSON.stringify(ok.body)).toBe(201);
    const photo = ok.body as PhotoView;
    expect(photo).toMatchObject({ incidentId, offerId, teamId, contentType: "image/png", sizeBytes: png.length, lat: site.lat });
    expect((await post("/api/field/photos", { key: k, offerId, at: ago(2), position, contentType: "image/png", data: png.toString("base64") })).status).toBe(409);
    const list = (await (await platform.fetch(`/api/incidents/${incidentId}/photos`)).json()) as PhotoView[];
    expect(list.map((p) => p.id)).toEqual([photo.id]);
    const full = await platform.fetch(`/api/photos/${photo.id}`);
    expect(full.status).toBe(200);
    expect(Buffer.from(((await full.json()) as { data: string }).data, "base64").equals(png)).toBe(true);
    expect((await platform.fetch(`/api/photos/${photo.id}`, {}, "rescuer2")).status).toBe(404);
    const entries = (await events()).filter((e) => e.type === "photo");
    expect(entries).toHaveLength(1);
    expect(entries[0]!.data).toMatchObject({ photoId: photo.id, sizeBytes: png.length });
  });

  it("records a note and the passengers freed, with counts", async () => {
    const note = await post("/api/field/actions", { key: key(), kind: "note", offerId, at: ago(1), text: "门机板烧毁，已手动开门" });
    expect(note.status, JSON.stringify(note.body)).toBe(200);
    const freed = await post("/api/field/actions", { key: key(), kind: "freed", offerId, at: new Date().toISOString(), freedCount: 2, injuredCount: 1 });
    expect(freed.status, JSON.stringify(freed.body)).toBe(200);
    expect(freed.body.incident).toMatchObject({ status: "released", trappedCount: 2, injuredCount: 1 });
    const types = (await events()).map((e) => e.type);
    expect(types).toEqual(expect.arrayContaining(["note", "photo", "team_arrived", "offer_accepted"]));
  });
});
