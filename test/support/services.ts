/**
 * Throwaway servers a test owns (and may kill): Mosquitto and Redis on free ports, as child processes, and a
 * self-signed certificate for TLS tests. The machine's shared services are never touched.
 */
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { freePort } from "./child-server.ts";

export const MOSQUITTO = ["/usr/sbin/mosquitto", "/usr/bin/mosquitto", "/usr/local/sbin/mosquitto"].find((p) => fs.existsSync(p)) ?? null;
export const REDIS_SERVER = ["/usr/bin/redis-server", "/usr/local/bin/redis-server"].find((p) => fs.existsSync(p)) ?? null;
export const OPENSSL = ["/usr/bin/openssl", "/usr/local/bin/openssl"].find((p) => fs.existsSync(p)) ?? null;

export interface OwnedService {
  port: number;
  process: ChildProcess;
  /** Ends the process (SIGKILL: a crash, SIGTERM: a stop) and waits for its exit. */
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export function portOpen(port: number, host = "127.0.0.1"): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, host, () => (socket.end(), resolve(true)));
    socket.once("error", () => resolve(false));
  });
}

async function owned(command: string, args: string[], port: number, name: string): Promise<OwnedService> {
  const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout!.on("data", (d) => (output += d));
  child.stderr!.on("data", (d) => (output += d));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const killOnExit = () => child.kill("SIGKILL");
  process.once("exit", killOnExit);
  for (let i = 0; !(await portOpen(port)); i++) {
    if (i > 200 || child.exitCode !== null) {
      child.kill("SIGKILL");
      throw new Error(`${name} did not start on port ${port}: ${output}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    port,
    process: child,
    async kill(signal: NodeJS.Signals = "SIGKILL") {
      process.off("exit", killOnExit);
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}

/** Mosquitto with the given configuration text (`{port}` is replaced by a free port). */
export async function startMosquitto(conf: (port: number) => string, dir: string): Promise<OwnedService> {
  if (!MOSQUITTO) throw new Error("mosquitto is not installed");
  const port = await freePort();
  const file = path.join(dir, `mosquitto-${port}.conf`);
  fs.writeFileSync(file, conf(port), { mode: 0o644 });
  return owned(MOSQUITTO, ["-c", file], port, "mosquitto");
}

export async function startRedis(): Promise<OwnedService> {
  if (!REDIS_SERVER) throw new Error("redis-server is not installed");
  const port = await freePort();
  return owned(REDIS_SERVER, ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], port, "redis-server");
}

/** A self-signed certificate for localhost / 127.0.0.1, written as cert.pem and key.pem into a new folder. */
export function selfSignedCertificate(): { dir: string; certFile: string; keyFile: string; cert: Buffer } {
  if (!OPENSSL) throw new Error("openssl is not installed");
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "lift96333-tls-"));
  fs.chmodSync(dir, 0o755);
  const certFile = path.join(dir, "cert.pem");
  const keyFile = path.join(dir, "key.pem");
  execFileSync(OPENSSL, [
    "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
    "-keyout", keyFile, "-out", certFile,
    "-subj", "/CN=localhost",
    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
  ], { stdio: "ignore" });
  fs.chmodSync(keyFile, 0o644);
  return { dir, certFile, keyFile, cert: fs.readFileSync(certFile) };
}
