/**
 * The rescuer phone app's contract with the server: the actions it sends (each under an idempotency key
 * chosen when the rescuer tapped, with the time it happened), the position reports, photo uploads, and
 * the pure checks both sides agree on (what counts as a position in China, a usable accuracy, a believable
 * speed, a delayed timeline entry). Pure code: shared by the server, the field app and the demo crews.
 */
import { z } from "zod";

/** Positions accepted for the field: mainland China with its islands, generously boxed. */
export const CHINA_BOUNDS = { minLat: 3.8, maxLat: 53.6, minLng: 73.4, maxLng: 135.1 } as const;
/** A fix worse than this says nothing about where the crew is. */
export const MAX_ACCURACY_M = 500;
/** Faster than any road vehicle in a city: a jump between two fixes above this is a bad fix. */
export const MAX_SPEED_MPS = 70;
/** How often the app sends its position at most: after this many seconds, or this many metres moved. */
export const POSITION_EVERY_S = 10;
export const POSITION_EVERY_M = 50;
/** An entry received this long after it happened is shown as sent late (the phone was offline). */
export const DELAYED_ENTRY_S = 30;
/** A phone's clock may run a little ahead of the server's. */
export const MAX_CLOCK_AHEAD_MS = 120_000;
/** Photos: the types a phone camera produces, and a size that leaves room for detail. */
export const PHOTO_TYPES = ["image/jpeg", "image/png", "image/webp"] as const;
export const MAX_PHOTO_BYTES = 3 * 1024 * 1024;
/** Base64 text of an upload, with room to say how far over the limit a photo is. */
export const MAX_PHOTO_UPLOAD_CHARS = 5 * 1024 * 1024;

const lat = z.number().min(-90).max(90);
const lng = z.number().min(-180).max(180);
const isoTime = z.iso.datetime({ offset: true, message: "an ISO 8601 time with offset, e.g. 2026-11-27T08:00:00Z" });
/** Chosen by the phone when the action is taken; a replay carries the same key. */
export const idempotencyKey = z.string().regex(/^[A-Za-z0-9_-]{16,64}$/, "16-64 characters of A-Z a-z 0-9 _ -");

export const fieldPosition = z.object({ lat, lng, accuracyM: z.number().min(0).max(100_000) });

const base = { key: idempotencyKey, offerId: z.number().int().positive(), at: isoTime };
export const fieldAction = z.discriminatedUnion("kind", [
  z.object({ ...base, kind: z.literal("accept") }),
  z.object({ ...base, kind: z.literal("decline"), reason: z.string().trim().min(2).max(500) }),
  z.object({ ...base, kind: z.literal("depart"), position: fieldPosition.optional() }),
  z.object({ ...base, kind: z.literal("arrive"), position: fieldPosition }),
  z.object({
    ...base,
    kind: z.literal("freed"),
    freedCount: z.number().int().min(0).max(100),
    injuredCount: z.number().int().min(0).max(100),
    position: fieldPosition.optional(),
  }),
  z.object({ ...base, kind: z.literal("note"), text: z.string().trim().min(1).max(1000), position: fieldPosition.optional() }),
]);
export type FieldAction = z.infer<typeof fieldAction>;
export type FieldActionKind = FieldAction["kind"];

export const positionReport = fieldPosition.extend({ at: isoTime });
export type PositionReport = z.infer<typeof positionReport>;

export const photoUpload = z.object({
  key: idempotencyKey,
  offerId: z.number().int().positive(),
  at: isoTime,
  position: fieldPosition.optional(),
  contentType: z.enum(PHOTO_TYPES),
  /** The image, base64 (the API takes JSON only). Its decoded size is checked by the server (413). */
  data: z.string().min(4).max(MAX_PHOTO_UPLOAD_CHARS),
});
export type PhotoUpload = z.infer<typeof photoUpload>;

export const photoView = z.object({
  id: z.number().int(),
  incidentId: z.number().int(),
  offerId: z.number().int(),
  teamId: z.number().int(),
  takenAt: z.string(),
  receivedAt: z.string(),
  lat: z.number().nullable(),
  lng: z.number().nullable(),
  contentType: z.string(),
  sizeBytes: z.number().int(),
  url: z.string(),
});
export type PhotoView = z.infer<typeof photoView>;

/** Great-circle distance in metres (haversine); enough for radii of metres to kilometres. */
export function distanceM(a: { lat: number; lng: number }, b: { lat: number; lng: number }): number {
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLng = (b.lng - a.lng) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLng / 2) ** 2;
  return 2 * 6_371_008.8 * Math.asin(Math.min(1, Math.sqrt(h)));
}

export type PositionProblem =
  | { id: "outside_china"; message: string }
  | { id: "accuracy_too_low"; message: string }
  | { id: "position_jump"; message: string; speedMps: number };

/**
 * Whether a fix may be trusted: inside China, accurate to `MAX_ACCURACY_M`, and (against the team's last
 * accepted fix) not implying a speed no vehicle reaches. Null when it may.
 */
export function positionProblem(
  fix: { lat: number; lng: number; accuracyM: number; at: Date },
  last: { lat: number; lng: number; at: Date } | null,
): PositionProblem | null {
  const b = CHINA_BOUNDS;
  if (fix.lat < b.minLat || fix.lat > b.maxLat || fix.lng < b.minLng || fix.lng > b.maxLng) {
    return { id: "outside_china", message: `position ${fix.lat.toFixed(5)}, ${fix.lng.toFixed(5)} lies outside China` };
  }
  if (fix.accuracyM > MAX_ACCURACY_M) {
    return { id: "accuracy_too_low", message: `accuracy ${Math.round(fix.accuracyM)} m is worse than ${MAX_ACCURACY_M} m` };
  }
  if (last) {
    const seconds = (fix.at.getTime() - last.at.getTime()) / 1000;
    const metres = distanceM(last, fix);
    // Both fixes carry an uncertainty: a jump within it is no movement at all.
    const moved = Math.max(0, metres - fix.accuracyM);
    const speedMps = seconds > 0 ? moved / seconds : moved > 0 ? Infinity : 0;
    if (moved > 200 && speedMps > MAX_SPEED_MPS) {
      return {
        id: "position_jump",
        message: `${Math.round(metres)} m in ${Math.max(0, Math.round(seconds))} s since the last position is faster than ${MAX_SPEED_MPS} m/s`,
        speedMps: Number.isFinite(speedMps) ? Math.round(speedMps) : -1,
      };
    }
  }
  return null;
}

/**
 * The app's send rule: the first fix goes out, then a fix only once `POSITION_EVERY_S` seconds have
 * passed or it lies `POSITION_EVERY_M` metres from the last one sent.
 */
export function shouldSendPosition(last: { lat: number; lng: number; at: number } | null, next: { lat: number; lng: number; at: number }): boolean {
  if (!last) return true;
  if (next.at - last.at >= POSITION_EVERY_S * 1000) return true;
  return distanceM(last, next) >= POSITION_EVERY_M;
}

/** Seconds a timeline entry reached the server after it happened, when that makes it a late entry. */
export function entryDelayS(entry: { at: string; data: unknown }): number | null {
  const receivedAt = (entry.data as { receivedAt?: unknown } | null)?.receivedAt;
  if (typeof receivedAt !== "string") return null;
  const delay = Math.round((Date.parse(receivedAt) - Date.parse(entry.at)) / 1000);
  return Number.isFinite(delay) && delay >= DELAYED_ENTRY_S ? delay : null;
}
