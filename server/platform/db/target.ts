import path from "node:path";

/** Where the state of record lives: embedded PGlite (a folder, or memory for tests) or a PostgreSQL server. */
export type DatabaseTarget =
  | { kind: "pglite"; dataDir: string | null }
  | { kind: "postgres"; url: string };

export const DEFAULT_PGLITE_DIR = "./data/pglite";

/**
 * Accepts `postgres://` / `postgresql://` URLs, `pglite:<folder>`, `pglite:memory`, or nothing
 * (embedded PGlite under ./data/).
 */
export function parseDatabaseUrl(url: string | undefined): DatabaseTarget {
  if (!url) return { kind: "pglite", dataDir: path.resolve(DEFAULT_PGLITE_DIR) };
  if (/^postgres(ql)?:\/\//.test(url)) return { kind: "postgres", url };
  if (url.startsWith("pglite:")) {
    const rest = url.slice("pglite:".length).replace(/^\/\//, "");
    if (rest === "memory" || rest === "") return { kind: "pglite", dataDir: null };
    return { kind: "pglite", dataDir: path.resolve(rest) };
  }
  throw new Error(
    `DATABASE_URL must start with postgresql://, postgres:// or pglite: (got "${url.split(":")[0]}:...")`,
  );
}

export function describeTarget(target: DatabaseTarget): string {
  if (target.kind === "postgres") return new URL(target.url).host + new URL(target.url).pathname;
  return target.dataDir ? `PGlite ${target.dataDir}` : "PGlite (memory)";
}
