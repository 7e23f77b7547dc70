/**
 * A test that needs something the machine lacks may skip on a developer's bare machine, with the reason
 * printed. With TEST_NO_SKIP=1 (CI sets it) the same situation fails instead.
 */
export function skipReason(missing: string | null): string | null {
  if (!missing) return null;
  if (process.env.TEST_NO_SKIP === "1") {
    throw new Error(`TEST_NO_SKIP=1 and a required part is missing: ${missing}`);
  }
  console.warn(`[skipped] ${missing}`);
  return missing;
}
