/**
 * The real server (`server/main.ts`) as a CHILD PROCESS, for fault tests that kill it: SIGKILL from the
 * test, or from the server itself at a crash point (`CRASH_AT`, server/platform/crash.ts). The process
 * can be started again on the same database and the same HTTP and MQTT ports, so devices reconnect to the
 * broker URL they already have and signed-in cookies stay valid (sessions are rows).
 *
 * Environment as test/support/platform.ts: a database from createTestDatabase() (PGlite folder, or
 * PostgreSQL with TEST_DATABASE_URL), the embedded broker on a fixed free port (or TEST_MQTT_URL's broker),
 * Redis with TEST_REDIS_URL. The child's output is kept (last lines) for failure messages; with
 * TEST_CHILD_OUTPUT=1 it is also passed through to this process's stderr.
 */
import { spawn, type ChildProcess } from "node:child_process";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { openPGlite } from "../../server/platform/db/adapter.ts";
import { createTestDatabase, type TestDatabase } from "./database.ts";
import { login } from "./clients.ts";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/** A TCP port that was free a moment ago (bound to 0, read, released). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ChildServer {
  readonly baseUrl: string;
  readonly mqttUrl: string;
  readonly database: TestDatabase;
  /** The current (or last) process. */
  readonly process: ChildProcess;
  /** Date.now() when the current process answered /api/health. */
  readonly readyAt: number;
  /** Date.now() when the current process was spawned. */
  readonly spawnedAt: number;
  /** How many processes were started so far (1 after start, 2 after the first restart, ...). */
  readonly runs: number;
  /** Resolves when the current process has exited (at once if it already has); rejects after timeoutMs. */
  waitForExit(timeoutMs?: number): Promise<ChildExit>;
  /** Sends `signal` (SIGKILL by default) to the current process and waits for its exit. */
  kill(signal?: NodeJS.Signals): Promise<ChildExit>;
  /**
   * Starts a new process on the same database and ports once the current one has exited (kill it first, or
   * let it crash). `env` replaces the per-run settings of the first start (CRASH_AT is never carried over).
   */
  restart(env?: Record<string, string>): Promise<void>;
  /** fetch on the server signed in as a demo user (dispatcher by default), JSON content type. */
  fetch(path: string, init?: RequestInit, as?: string): Promise<Response>;
  /** GET and parse JSON; throws on a non-2xx status with the body in the message. */
  get<T>(path: string, as?: string): Promise<T>;
  /** The last lines the processes printed (stdout and stderr), for failure messages. */
  output(): string;
  /** Graceful stop (SIGTERM, SIGKILL after 10 s) if running, then the database is dropped. */
  close(): Promise<void>;
}

export interface ChildServerOptions {
  /** Per-run settings of the first process, e.g. CRASH_AT, OFFER_TIMEOUT_S. */
  env?: Record<string, string>;
  /** A database that outlives the server; by default a fresh one, dropped by close(). */
  database?: TestDatabase;
  /** Start timeout (the child compiles TypeScript with tsx on each start). */
  startTimeoutMs?: number;
  /** Node arguments of the server; by default the TypeScript sources through tsx. */
  entry?: string[];
}

const OUTPUT_LINES = 200;

export async function startChildServer(options: ChildServerOptions = {}): Promise<ChildServer> {
  const owned = !options.database;
  const database = options.database ?? (await createTestDatabase());
  const httpPort = await freePort();
  const externalBroker = process.env.TEST_MQTT_URL;
  const mqttPort = externalBroker ? null : await freePort();
  const mqttUrl = externalBroker ?? `mqtt://127.0.0.1:${mqttPort}`;
  const baseUrl = `http://127.0.0.1:${httpPort}`;
  const fixedEnv: Record<string, string> = {
    PORT: String(httpPort),
    HOST: "127.0.0.1",
    DATABASE_URL: database.url,
    DEMO_DATA: "0",
    SIMULATOR_DEVICES: "0",
    SIMULATOR_CREWS: "0",
    MAP_TILES: "none",
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? "warn",
    SLA_TICK_MS: "200",
    STATUS_FLUSH_MS: "200",
    // API only: the client bundle is not needed (and may not be built in a worktree).
    CLIENT_DIR: path.join(ROOT, "test", ".no-client"),
    ...(externalBroker ? { MQTT_URL: externalBroker } : { MQTT_PORT: String(mqttPort) }),
    ...(process.env.TEST_REDIS_URL ? { REDIS_URL: process.env.TEST_REDIS_URL } : {}),
  };
  const lines: string[] = [];
  const passThrough = process.env.TEST_CHILD_OUTPUT === "1";
  let child: ChildProcess;
  let exited: Promise<ChildExit>;
  let exitInfo: ChildExit | null = null;
  let readyAt = 0;
  let spawnedAt = 0;
  let runs = 0;
  const cookies = new Map<string, Promise<string>>();

  const keep = (run: number) => (chunk: Buffer) => {
    for (const line of chunk.toString("utf8").split("\n")) {
      if (line.trim() === "") continue;
      lines.push(`[run ${run}] ${line}`);
      if (passThrough) process.stderr.write(`[server run ${run}] ${line}\n`);
    }
    if (lines.length > OUTPUT_LINES) lines.splice(0, lines.length - OUTPUT_LINES);
  };

  // A test worker that dies must not leave a server (and its PGlite lock) behind.
  const killOnExit = () => {
    if (exitInfo === null) child?.kill("SIGKILL");
  };
  process.once("exit", killOnExit);

  const spawnRun = async (runEnv: Record<string, string>) => {
    runs++;
    const run = runs;
    const env: NodeJS.ProcessEnv = { ...process.env, ...fixedEnv, ...runEnv };
    if (!runEnv.CRASH_AT) delete env.CRASH_AT;
    // The test runner's own variables would change what the server does (e.g. vitest sets NODE_ENV=test).
    delete env.VITEST;
    delete env.VITEST_WORKER_ID;
    delete env.VITEST_POOL_ID;
    // `node --import tsx` keeps one process (the tsx binary would wrap the server in a second one, and a
    // SIGKILL sent to the wrapper would not reach the server).
    child = spawn(process.execPath, options.entry ?? ["--import", "tsx", "server/main.ts"], { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
    spawnedAt = Date.now();
    exitInfo = null;
    child.stdout!.on("data", keep(run));
    child.stderr!.on("data", keep(run));
    exited = new Promise<ChildExit>((resolve) => {
      child.once("exit", (code, signal) => {
        exitInfo = { code, signal };
        lines.push(`[run ${run}] exited at ${new Date().toISOString()}: code ${code} signal ${signal}`);
        if (passThrough) process.stderr.write(`${lines[lines.length - 1]}\n`);
        resolve(exitInfo);
      });
    });
    const deadline = Date.now() + (options.startTimeoutMs ?? 60_000);
    for (;;) {
      if (exitInfo) throw new Error(`server exited during start (${JSON.stringify(exitInfo)}):\n${lines.slice(-30).join("\n")}`);
      try {
        const res = await fetch(`${baseUrl}/api/health`, { signal: AbortSignal.timeout(2000) });
        if (res.status === 200) {
          await res.body?.cancel();
          break;
        }
        await res.body?.cancel();
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) {
        child.kill("SIGKILL");
        throw new Error(`server did not answer /api/health within the start timeout:\n${lines.slice(-30).join("\n")}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    readyAt = Date.now();
  };

  const waitForExit = async (timeoutMs = 30_000): Promise<ChildExit> => {
    if (exitInfo) return exitInfo;
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        exited,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`server still running after ${timeoutMs} ms:\n${lines.slice(-20).join("\n")}`)), timeoutMs);
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  };

  try {
    await spawnRun(options.env ?? {});
  } catch (error) {
    process.off("exit", killOnExit);
    if (owned) await database.drop().catch(() => {});
    throw error;
  }

  const server: ChildServer = {
    baseUrl,
    mqttUrl,
    database,
    get process() {
      return child;
    },
    get readyAt() {
      return readyAt;
    },
    get spawnedAt() {
      return spawnedAt;
    },
    get runs() {
      return runs;
    },
    waitForExit,
    async kill(signal: NodeJS.Signals = "SIGKILL") {
      if (exitInfo) return exitInfo;
      child.kill(signal);
      return waitForExit();
    },
    async restart(env: Record<string, string> = {}) {
      if (!exitInfo) throw new Error("restart: the server is still running; kill it (or let it crash) first");
      await spawnRun(env);
    },
    async fetch(p: string, init: RequestInit = {}, as = "dispatcher") {
      if (!cookies.has(as)) cookies.set(as, login(baseUrl, as));
      const headers = new Headers(init.headers);
      if (!headers.has("content-type")) headers.set("content-type", "application/json");
      headers.set("cookie", await cookies.get(as)!);
      return fetch(`${baseUrl}${p}`, { ...init, headers });
    },
    async get<T>(p: string, as = "dispatcher") {
      const res = await server.fetch(p, {}, as);
      if (!res.ok) throw new Error(`GET ${p}: HTTP ${res.status} ${await res.text()}`);
      return (await res.json()) as T;
    },
    output: () => lines.join("\n"),
    async close() {
      if (!exitInfo) {
        child.kill("SIGTERM");
        await waitForExit(10_000).catch(async () => {
          child.kill("SIGKILL");
          await waitForExit(5000);
        });
      }
      process.off("exit", killOnExit);
      if (owned) await database.drop();
    },
  };
  return server;
}

/**
 * Plain SQL on a test database, for what the REST API does not show (e.g. sla_deadlines rows). A PGlite
 * folder can be opened by one process only: stop the server first.
 */
export async function withSql<T>(database: TestDatabase, fn: (query: <R = Record<string, unknown>>(sql: string, params?: unknown[]) => Promise<R[]>) => Promise<T>): Promise<T> {
  if (database.kind === "postgres") {
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      return await fn(async <R,>(sql: string, params: unknown[] = []) => (await client.query(sql, params)).rows as R[]);
    } finally {
      await client.end();
    }
  }
  const db = openPGlite(database.url.slice("pglite:".length));
  try {
    return await fn(async <R,>(sql: string, params: unknown[] = []) => (await db.query<R>(sql, params)).rows);
  } finally {
    await db.close();
  }
}
