import { describe, expect, it } from "vitest";
import gcoord from "gcoord";
import { ActionQueue, classify, MemoryQueueStore, newKey, type Delivery, type QueuedAction } from "../../client/src/field/queue.ts";
import { navigationLinks } from "../../client/src/field/nav.ts";
import { distanceM, entryDelayS, idempotencyKey, positionProblem, shouldSendPosition } from "../../server/contracts/field.ts";
import { photoFormatProblem } from "../../server/field/photos.ts";

describe("offline action queue", () => {
  const setup = (answers: (action: QueuedAction) => Delivery) => {
    const store = new MemoryQueueStore();
    const delivered: string[] = [];
    const refused: string[] = [];
    let clock = Date.parse("2026-12-02T08:00:00Z");
    const queue = new ActionQueue(
      store,
      async (action) => {
        delivered.push(action.kind);
        return answers(action);
      },
      { onRefused: (r) => refused.push(`${r.action.kind}:${r.id}`) },
      () => new Date((clock += 1000)),
    );
    return { store, queue, delivered, refused };
  };
  const add = (queue: ActionQueue, kind: string) => queue.add({ path: "/api/field/actions", kind, offerId: 7, body: { kind, offerId: 7 } });

  it("keeps actions with their time and key while offline and replays them in order once", async () => {
    let online = false;
    const { queue, delivered } = setup(() => (online ? { outcome: "sent", body: {} } : { outcome: "retry", message: "offline" }));
    const a = await add(queue, "accept");
    const b = await add(queue, "depart");
    const c = await add(queue, "note");
    expect(a.body).toMatchObject({ kind: "accept", key: a.key, at: "2026-12-02T08:00:01.000Z" });
    expect(new Set([a.key, b.key, c.key]).size).toBe(3);
    await queue.flush();
    // The first failure stops the run: the later ones keep their place behind it.
    expect(delivered).toEqual(["accept"]);
    expect((await queue.pending()).map((x) => [x.kind, x.attempts])).toEqual([["accept", 1], ["depart", 0], ["note", 0]]);
    online = true;
    await queue.flush();
    expect(delivered).toEqual(["accept", "accept", "depart", "note"]);
    expect(await queue.pending()).toEqual([]);
    await queue.flush();
    expect(delivered).toHaveLength(4);
  });

  it("replays with the key and time of the moment the action was taken", async () => {
    const bodies: unknown[] = [];
    let online = false;
    const store = new MemoryQueueStore();
    const queue = new ActionQueue(store, async (action) => {
      bodies.push(action.body);
      return online ? { outcome: "sent", body: {} } : { outcome: "retry", message: "offline" };
    });
    const taken = await add(queue, "arrive");
    await queue.flush();
    online = true;
    await queue.flush();
    expect(bodies).toEqual([taken.body, taken.body]);
  });

  it("drops a refused action and reports it, counts a duplicate as sent, and carries on", async () => {
    const { queue, delivered, refused } = setup((action) =>
      action.kind === "accept"
        ? classify(409, { error: { id: "already_recorded", message: "already" } })
        : action.kind === "depart"
          ? classify(409, { error: { id: "conflict", message: "offer is expired" } })
          : classify(200, { incident: {} }),
    );
    await add(queue, "accept");
    await add(queue, "depart");
    await add(queue, "note");
    await queue.flush();
    expect(delivered).toEqual(["accept", "depart", "note"]);
    expect(refused).toEqual(["depart:conflict"]);
    expect(await queue.pending()).toEqual([]);
  });

  it("classifies answers: network, server trouble and limits wait; reasons refuse", () => {
    expect(classify(0, null).outcome).toBe("retry");
    expect(classify(503, null).outcome).toBe("retry");
    expect(classify(429, { error: { id: "too_many" } }).outcome).toBe("retry");
    expect(classify(409, { error: { id: "in_progress" } }).outcome).toBe("retry");
    expect(classify(409, { error: { id: "already_recorded" } }).outcome).toBe("duplicate");
    expect(classify(403, { error: { id: "not_your_team", message: "x" } })).toMatchObject({ outcome: "refused", status: 403, id: "not_your_team" });
    expect(classify(422, { error: { id: "not_at_site", message: "far", details: { distanceM: 900 } } })).toMatchObject({ outcome: "refused", details: { distanceM: 900 } });
    expect(classify(201, {}).outcome).toBe("sent");
  });

  it("shares one run between concurrent flushes and sends each action once", async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => (release = r));
    const delivered: string[] = [];
    const slow = new ActionQueue(new MemoryQueueStore(), async (action) => {
      await gate;
      delivered.push(action.kind);
      return { outcome: "sent", body: {} };
    });
    await slow.add({ path: "/x", kind: "accept", offerId: 1, body: {} });
    const runs = [slow.flush(), slow.flush(), slow.flush()];
    await slow.add({ path: "/x", kind: "note", offerId: 1, body: {} });
    release();
    await Promise.all(runs);
    expect(delivered).toEqual(["accept", "note"]);
  });

  it("makes keys the server accepts", () => {
    for (let i = 0; i < 20; i++) expect(idempotencyKey.safeParse(newKey()).success).toBe(true);
  });
});

describe("field position rules", () => {
  const tianjin = { lat: 39.12, lng: 117.2 };
  const at = (s: number) => new Date(Date.UTC(2026, 11, 2, 8, 0, s));

  it("accepts a good fix and refuses outside China, poor accuracy and impossible jumps", () => {
    expect(positionProblem({ ...tianjin, accuracyM: 20, at: at(0) }, null)).toBeNull();
    expect(positionProblem({ lat: 48.85, lng: 2.35, accuracyM: 5, at: at(0) }, null)?.id).toBe("outside_china");
    expect(positionProblem({ lat: 0, lng: 0, accuracyM: 5, at: at(0) }, null)?.id).toBe("outside_china");
    expect(positionProblem({ ...tianjin, accuracyM: 501, at: at(0) }, null)?.id).toBe("accuracy_too_low");
    expect(positionProblem({ ...tianjin, accuracyM: 500, at: at(0) }, null)).toBeNull();
    // 1.1 km in 10 s is 110 m/s: no vehicle in a city.
    expect(positionProblem({ lat: tianjin.lat + 0.01, lng: tianjin.lng, accuracyM: 10, at: at(10) }, { ...tianjin, at: at(0) })?.id).toBe("position_jump");
    // The same 1.1 km in 60 s is 18 m/s: a car.
    expect(positionProblem({ lat: tianjin.lat + 0.01, lng: tianjin.lng, accuracyM: 10, at: at(60) }, { ...tianjin, at: at(0) })).toBeNull();
    // Jitter within the fix's own accuracy is no movement.
    expect(positionProblem({ lat: tianjin.lat + 0.002, lng: tianjin.lng, accuracyM: 300, at: at(1) }, { ...tianjin, at: at(0) })).toBeNull();
  });

  it("sends a position every 10 s or 50 m at most", () => {
    const first = { ...tianjin, at: 0 };
    expect(shouldSendPosition(null, first)).toBe(true);
    expect(shouldSendPosition(first, { ...tianjin, at: 9_000 })).toBe(false);
    expect(shouldSendPosition(first, { ...tianjin, at: 10_000 })).toBe(true);
    expect(shouldSendPosition(first, { lat: tianjin.lat + 0.0004, lng: tianjin.lng, at: 2_000 })).toBe(false); // ~44 m
    expect(shouldSendPosition(first, { lat: tianjin.lat + 0.0005, lng: tianjin.lng, at: 2_000 })).toBe(true); // ~56 m
  });

  it("measures distances like the arrival check", () => {
    expect(Math.round(distanceM(tianjin, { lat: tianjin.lat + 0.009, lng: tianjin.lng }))).toBeGreaterThan(995);
    expect(Math.round(distanceM(tianjin, { lat: tianjin.lat + 0.009, lng: tianjin.lng }))).toBeLessThan(1005);
  });

  it("marks entries received 30 s or more after they happened", () => {
    expect(entryDelayS({ at: "2026-12-02T08:00:00.000Z", data: { receivedAt: "2026-12-02T08:05:00.000Z" } })).toBe(300);
    expect(entryDelayS({ at: "2026-12-02T08:00:00.000Z", data: { receivedAt: "2026-12-02T08:00:02.000Z" } })).toBeNull();
    expect(entryDelayS({ at: "2026-12-02T08:00:00.000Z", data: null })).toBeNull();
  });
});

describe("navigation links", () => {
  it("gives each map app the coordinate system it reads", () => {
    const target = { lat: 39.12, lng: 117.2, name: "天泰路147号 1号梯", address: "天津市河北区天泰路147号" };
    const links = Object.fromEntries(navigationLinks(target).map((l) => [l.app, new URL(l.href)]));
    const [gcjLng, gcjLat] = gcoord.transform([117.2, 39.12], gcoord.WGS84, gcoord.GCJ02);
    const [bdLng, bdLat] = gcoord.transform([117.2, 39.12], gcoord.WGS84, gcoord.BD09);
    expect(links.amap!.searchParams.get("position")).toBe(`${gcjLng!.toFixed(6)},${gcjLat!.toFixed(6)}`);
    expect(links.amap!.searchParams.get("coordinate")).toBe("gaode");
    expect(links.baidu!.searchParams.get("location")).toBe(`${bdLat!.toFixed(6)},${bdLng!.toFixed(6)}`);
    expect(links.baidu!.searchParams.get("coord_type")).toBe("bd09ll");
    expect(links.apple!.searchParams.get("ll")).toBe("39.120000,117.200000");
    // GCJ-02 and BD-09 shift Tianjin by hundreds of metres: sending WGS-84 to AMap would miss the building.
    expect(distanceM({ lat: 39.12, lng: 117.2 }, { lat: gcjLat!, lng: gcjLng! })).toBeGreaterThan(100);
    expect(links.amap!.searchParams.get("name")).toBe(target.name);
  });
});

describe("photo signatures", () => {
  const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]);
  const jpeg = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 16]);
  const webp = Buffer.concat([Buffer.from("RIFF"), Buffer.alloc(4), Buffer.from("WEBPVP8 ")]);
  it("accepts images of the declared type and refuses everything else", () => {
    expect(photoFormatProblem(png, "image/png")).toBeNull();
    expect(photoFormatProblem(jpeg, "image/jpeg")).toBeNull();
    expect(photoFormatProblem(webp, "image/webp")).toBeNull();
    expect(photoFormatProblem(png, "image/jpeg")).toBe("the file is image/png, not image/jpeg");
    expect(photoFormatProblem(Buffer.from("%PDF-1.7"), "image/png")).toMatch(/not an image/);
    expect(photoFormatProblem(Buffer.alloc(0), "image/png")).toMatch(/empty/);
  });
});
