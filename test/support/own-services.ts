/**
 * A broker and a PostgreSQL of the test's own, for fault tests that stop and start them. Never the
 * machine's shared services: other test runs use those. Mosquitto runs in the foreground as a child
 * process on a free port; PostgreSQL is a throwaway cluster (initdb in a temp folder, pg_ctl on a free
 * port), run as the `postgres` user when the tests run as root (initdb refuses root).
 */
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { promisify } from "node:util";
import pg from "pg";
import { freePort } from "./child-server.ts";

const run = promisify(execFile);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export const MOSQUITTO_BIN = ["/usr/sbin/mosquitto", "/usr/bin/mosquitto", "/usr/local/sbin/mosquitto"].find((p) => fs.existsSync(p)) ?? null;

function postgresBinDir(): string | null {
  const root = "/usr/lib/postgresql";
  if (!fs.existsSync(root)) return null;
  const versions = fs
    .readdirSync(root)
    .filter((v) => fs.existsSync(path.join(root, v, "bin", "initdb")))
    .sort((a, b) => Number(b) - Number(a));
  return versions.length ? path.join(root, versions[0]!, "bin") : null;
}
export const POSTGRES_BIN_DIR = postgresBinDir();

export async function waitForPort(port: number, timeoutMs: number, alive: () => boolean = () => true): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const up = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, "127.0.0.1", () => (s.end(), resolve(true)));
      s.once("error", () => resolve(false));
    });
    if (up) return;
    if (!alive() || Date.now() > deadline) throw new Error(`nothing listening on port ${port}`);
    await sleep(50);
  }
}

export interface OwnBroker {
  url: string;
  port: number;
  /** SIGKILL: the broker is gone at once, as in a crash. */
  kill(): Promise<void>;
  /** A new broker process on the same port. */
  start(): Promise<void>;
  close(): Promise<void>;
}

/** Mosquitto 2 on a free port, anonymous logins, no persistence (a restart loses every session). */
export async function startOwnMosquitto(options: { configLines?: string[] } = {}): Promise<OwnBroker> {
  if (!MOSQUITTO_BIN) throw new Error("mosquitto is not installed");
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "own-mosquitto-"));
  fs.chmodSync(dir, 0o755);
  const port = await freePort();
  const confFile = path.join(dir, "mosquitto.conf");
  fs.writeFileSync(confFile, [`listener ${port} 127.0.0.1`, "allow_anonymous true", "persistence false", ...(options.configLines ?? []), ""].join("\n"), { mode: 0o644 });
  let child: ChildProcess | null = null;
  let stderr = "";
  const start = async () => {
    child = spawn(MOSQUITTO_BIN, ["-c", confFile], { stdio: ["ignore", "ignore", "pipe"] });
    child.stderr!.on("data", (d) => (stderr = (stderr + d).slice(-2000)));
    const current = child;
    await waitForPort(port, 10_000, () => current.exitCode === null).catch((error) => {
      throw new Error(`mosquitto did not start: ${(error as Error).message}\n${stderr}`);
    });
  };
  const kill = async () => {
    const current = child;
    if (!current || current.exitCode !== null || current.signalCode !== null) return;
    const exited = new Promise((r) => current.once("exit", r));
    current.kill("SIGKILL");
    await exited;
  };
  await start();
  return {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    kill,
    start,
    async close() {
      await kill();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface OwnPostgres {
  /** Connection URL of the `postgres` database of this cluster. */
  url: string;
  port: number;
  /** `pg_ctl stop -m immediate`: connections break at once, as when the database host fails. */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Creates a database cloned from `template` (or empty) and returns its URL. */
  createDatabase(name: string, template?: string): Promise<string>;
  close(): Promise<void>;
}

/** A throwaway PostgreSQL cluster: initdb into a temp folder, started with pg_ctl on a free port. */
export async function startOwnPostgres(): Promise<OwnPostgres> {
  if (!POSTGRES_BIN_DIR) throw new Error("PostgreSQL server binaries are not installed (/usr/lib/postgresql/*/bin)");
  const bin = (name: string) => path.join(POSTGRES_BIN_DIR!, name);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "own-postgres-"));
  const asRoot = process.getuid?.() === 0;
  // initdb and postgres refuse to run as root: run them as the system's postgres user.
  const runAs = asRoot ? ["runuser", "-u", "postgres", "--"] : [];
  if (asRoot) await run("chown", ["postgres", dir]);
  const exec = (file: string, args: string[]) => (runAs.length ? run(runAs[0]!, [...runAs.slice(1), file, ...args]) : run(file, args));
  const dataDir = path.join(dir, "data");
  await exec(bin("initdb"), ["-D", dataDir, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync", "--locale=C.UTF-8"]);
  const port = await freePort();
  // fsync off is safe here (the machine does not crash, the database process does), but commits stay
  // synchronous: an immediate stop after an acknowledged alarm must not take the alarm with it.
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off -c max_connections=200`;
  const url = `postgresql://postgres@127.0.0.1:${port}/postgres`;
  const start = async () => {
    await exec(bin("pg_ctl"), ["-D", dataDir, "-o", options, "-l", path.join(dir, "log"), "-w", "-t", "120", "start"]);
  };
  const stop = async () => {
    await exec(bin("pg_ctl"), ["-D", dataDir, "-m", "immediate", "-w", "-t", "60", "stop"]).catch(() => undefined);
  };
  await start();
  return {
    url,
    port,
    stop,
    start,
    async createDatabase(name, template) {
      const admin = new pg.Client({ connectionString: url });
      await admin.connect();
      try {
        await admin.query(`CREATE DATABASE "${name}"${template ? ` TEMPLATE "${template}"` : ""}`);
      } finally {
        await admin.end();
      }
      return url.replace(/\/postgres$/, `/${name}`);
    },
    async close() {
      await stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
