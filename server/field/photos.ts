import type { PHOTO_TYPES } from "../contracts/field.ts";

/** The first bytes each accepted image type starts with. */
const SIGNATURES: Record<(typeof PHOTO_TYPES)[number], (b: Buffer) => boolean> = {
  "image/jpeg": (b) => b.length > 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff,
  "image/png": (b) => b.length > 8 && b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])),
  "image/webp": (b) => b.length > 12 && b.toString("latin1", 0, 4) === "RIFF" && b.toString("latin1", 8, 12) === "WEBP",
};

/**
 * Whether the bytes are what the upload claims: the declared type decides nothing, the file's own
 * signature does (a renamed PDF or script is refused). Null when they are.
 */
export function photoFormatProblem(bytes: Buffer, contentType: (typeof PHOTO_TYPES)[number]): string | null {
  if (bytes.length === 0) return "the photo is empty";
  if (SIGNATURES[contentType](bytes)) return null;
  const actual = (Object.keys(SIGNATURES) as (typeof PHOTO_TYPES)[number][]).find((type) => SIGNATURES[type](bytes));
  return actual ? `the file is ${actual}, not ${contentType}` : `the file is not an image (${contentType} expected)`;
}
