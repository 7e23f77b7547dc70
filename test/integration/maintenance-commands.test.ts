import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { spawn, spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import mqtt from "mqtt";
import { createTestDatabase, type TestDatabase } from "../support/database.ts";
import { freePort } from "../support/child-server.ts";
import { MOSQUITTO, OPENSSL, portOpen, selfSignedCertificate } from "../support/services.ts";
import { skipReason } from "../support/skip.ts";
import { demoDeviceId, demoDeviceSecret } from "../../server/devices/secrets.ts";
import { topics } from "../../server/devices/protocol.ts";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const missing = skipReason(!MOSQUITTO || !OPENSSL ? "mosquitto and openssl are needed for the exported TLS configuration" : null);

/** An npm script's command line, run as `npm run` would (tsx), in a child process. */
function runTsx(script: string, args: string[], env: Record<string, string>) {
  return spawnSync(process.execPath, ["--import", "tsx", script, ...args], { cwd: ROOT, env: { ...process.env, ...env }, encoding: "utf8", timeout: 120_000 });
}

describe("maintenance commands", () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase();
  }, 120_000);
  afterAll(async () => database?.drop());

  it("refuse a PGlite folder that a running server holds, with a sentence", async () => {
    // PostgreSQL (TEST_DATABASE_URL) has no single-process folder: nothing to refuse there.
    if (database.kind === "postgres") return;
    const dataDir = database.url.slice("pglite:".length);
    // A live process standing in for the server: its id in the holder file.
    const holder = spawn("sleep", ["60"]);
    try {
      fs.writeFileSync(path.join(dataDir, "lift96333-server.pid"), String(holder.pid));
      const result = runTsx("server/audit/verify-cli.ts", [], { DATABASE_URL: database.url });
      expect(result.status).toBe(2);
      expect(result.stderr).toContain(`in use by a running server (process ${holder.pid})`);
    } finally {
      const gone = new Promise((resolve) => holder.once("exit", resolve));
      holder.kill("SIGKILL");
      await gone;
    }
    // Once the holder is gone the same command runs.
    const after = runTsx("server/audit/verify-cli.ts", [], { DATABASE_URL: database.url });
    expect(after.status, after.stderr).toBe(0);
  }, 300_000);

  describe.skipIf(missing)("mosquitto:config with TLS", () => {
    it("exports a configuration a root-started Mosquitto loads, with an MQTT-over-TLS listener devices log in to", async () => {
      const certificate = selfSignedCertificate();
      const out = fs.mkdtempSync(path.join(os.tmpdir(), "lift96333-mosquitto-export-"));
      const [port, tlsPort] = [await freePort(), await freePort()];
      const exported = runTsx(
        "server/devices/mosquitto-cli.ts",
        ["--out", out, "--port", String(port), "--tls-port", String(tlsPort), "--tls-cert", certificate.certFile, "--tls-key", certificate.keyFile],
        { DATABASE_URL: database.url, MQTT_USERNAME: "platform-export", MQTT_PASSWORD: "platform-export-password" },
      );
      expect(exported.status, exported.stderr).toBe(0);
      const conf = fs.readFileSync(path.join(out, "mosquitto.conf"), "utf8");
      expect(conf).toContain(`listener ${tlsPort} 0.0.0.0`);
      expect(conf).toContain("max_packet_size 65536");
      expect(conf).not.toContain("message_size_limit");
      const broker = spawn(MOSQUITTO!, ["-c", path.join(out, "mosquitto.conf")], { stdio: ["ignore", "ignore", "pipe"] });
      let stderr = "";
      broker.stderr!.on("data", (d) => (stderr += d));
      try {
        for (let i = 0; !(await portOpen(tlsPort)); i++) {
          if (i > 100 || broker.exitCode !== null) throw new Error(`mosquitto did not start: ${stderr}`);
          await new Promise((r) => setTimeout(r, 50));
        }
        const id = demoDeviceId(3);
        const device = await mqtt.connectAsync(`mqtts://localhost:${tlsPort}`, {
          clientId: id,
          username: id,
          password: demoDeviceSecret(id),
          ca: certificate.cert,
          reconnectPeriod: 0,
          connectTimeout: 5000,
        });
        await device.publishAsync(topics.status(id), "{}", { qos: 1 });
        await device.endAsync(true);
        await expect(
          mqtt.connectAsync(`mqtts://localhost:${tlsPort}`, { clientId: id, username: id, password: "wrong-secret", ca: certificate.cert, reconnectPeriod: 0, connectTimeout: 5000 }),
        ).rejects.toThrow();
        // Plain MQTT beside it, as exported without --tls-only.
        expect(await portOpen(port)).toBe(true);
      } finally {
        broker.kill("SIGTERM");
        fs.rmSync(out, { recursive: true, force: true });
        fs.rmSync(certificate.dir, { recursive: true, force: true });
      }
    }, 300_000);
  });
});
