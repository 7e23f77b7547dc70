import fs from "node:fs";
import path from "node:path";
import type { DatabaseTarget } from "./target.ts";

/**
 * PGlite is a database inside one process: a second process opening the same folder corrupts it. The server
 * leaves its process id in the folder while it runs; maintenance commands check it first.
 */
const HOLDER_FILE = "lift96333-server.pid";

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** The id of another live process that holds this PGlite folder, or null. */
export function pgliteHolder(dataDir: string): number | null {
  try {
    const pid = Number(fs.readFileSync(path.join(dataDir, HOLDER_FILE), "utf8").trim());
    return Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid) ? pid : null;
  } catch {
    return null;
  }
}

/** Marks the folder as held by this process; returns the release. */
export function holdPGlite(dataDir: string): () => void {
  const file = path.join(dataDir, HOLDER_FILE);
  fs.writeFileSync(file, String(process.pid));
  return () => {
    try {
      if (fs.readFileSync(file, "utf8").trim() === String(process.pid)) fs.unlinkSync(file);
    } catch {
      // already gone
    }
  };
}

/** For maintenance commands: one sentence and exit code 2 when a running server holds the PGlite folder. */
export function refuseOpenPGlite(target: DatabaseTarget): void {
  if (target.kind !== "pglite" || !target.dataDir) return;
  const holder = pgliteHolder(target.dataDir);
  if (holder === null) return;
  console.error(
    `the PGlite database ${target.dataDir} is in use by a running server (process ${holder}); ` +
      "stop it first (an embedded database can be opened by one process at a time), or use PostgreSQL",
  );
  process.exit(2);
}
