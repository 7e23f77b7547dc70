import fs from "node:fs";
import path from "node:path";
import { fork, type ChildProcess } from "node:child_process";

/**
 * A publisher or subscriber process of a benchmark: commands go out over the IPC channel, replies come
 * back in order. Load generators run in their own processes so the measurement is the server's ceiling,
 * not theirs.
 */
export class ForkedWorker<Command extends { cmd: string }, Reply extends { type: string }> {
  private readonly child: ChildProcess;
  private waiters: ((reply: Reply) => void)[] = [];
  private readonly killAfterMs: number;

  constructor(file: string, options: { label: string; killAfterMs: number }) {
    this.killAfterMs = options.killAfterMs;
    this.child = fork(path.join(import.meta.dirname, file), [], { execArgv: ["--import", "tsx"], stdio: "inherit" });
    this.child.on("message", (reply: Reply) => {
      if (reply.type === "error") console.error(`[${options.label}] ${(reply as { message?: string }).message}`);
      this.waiters.shift()?.(reply);
    });
  }

  request(command: Command): Promise<Reply> {
    return new Promise((resolve) => {
      this.waiters.push(resolve);
      this.child.send(command);
    });
  }

  send(command: Command): void {
    this.child.send(command);
  }

  /** Asks the worker to stop, and kills it if it has not gone after `killAfterMs`. */
  stop(): void {
    this.child.send({ cmd: "stop" });
    setTimeout(() => this.child.kill(), this.killAfterMs).unref();
  }
}

export const pct = (sorted: number[], p: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]! : NaN);
export const round = (n: number, d = 1) => Math.round(n * 10 ** d) / 10 ** d;

/** BENCH_PROFILE=file.cpuprofile: a CPU profile of the server process during the measured window. */
export async function startProfile() {
  const { Session } = await import("node:inspector/promises");
  const session = new Session();
  session.connect();
  await session.post("Profiler.enable");
  await session.post("Profiler.start");
  return async (file: string) => {
    const { profile } = await session.post("Profiler.stop");
    fs.writeFileSync(file, JSON.stringify(profile));
    session.disconnect();
  };
}
