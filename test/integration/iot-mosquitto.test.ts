import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { spawn, type ChildProcess } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import mqtt, { type MqttClient } from "mqtt";
import { skipReason } from "../support/skip.ts";
import { createTestDatabase, type TestDatabase } from "../support/database.ts";
import { connectDemoDevice } from "../support/clients.ts";
import { loadConfig } from "../../server/platform/config.ts";
import { createLogger } from "../../server/platform/logger.ts";
import { connectDatabase } from "../../server/platform/db/index.ts";
import { parseDatabaseUrl } from "../../server/platform/db/target.ts";
import { startPlatform, type Platform } from "../../server/app.ts";
import { mosquittoConf, mosquittoFiles } from "../../server/devices/mosquitto.ts";
import { createDeviceRepository } from "../../server/devices/repository.ts";
import { demoDeviceId, demoDeviceSecret } from "../../server/devices/secrets.ts";
import { topics } from "../../server/devices/protocol.ts";

const MOSQUITTO = ["/usr/sbin/mosquitto", "/usr/bin/mosquitto", "/usr/local/sbin/mosquitto"].find((p) => fs.existsSync(p));
const missing = skipReason(MOSQUITTO ? null : "mosquitto is not installed (apt-get install mosquitto): external-broker test skipped");

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The files `npm run mosquitto:config` exports, loaded into a real Mosquitto 2 on a free port: it must
 * enforce docs/protocol.md's rules as the embedded broker does, and the platform must work through it.
 */
describe.skipIf(missing)("iot: external Mosquitto with the exported password and ACL files", () => {
  let dir: string;
  let broker: ChildProcess;
  let url: string;
  let database: TestDatabase;
  let platform: Platform;
  const platformUser = { username: "platform-test", password: "platform-test-password-1" };
  const clients: MqttClient[] = [];
  const login = async (id: string, password: string, clientId = id) => {
    const c = await mqtt.connectAsync(url, { clientId, username: id, password, reconnectPeriod: 0, connectTimeout: 3000 });
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    database = await createTestDatabase();
    const db = await connectDatabase(parseDatabaseUrl(database.url));
    const files = await mosquittoFiles(createDeviceRepository(db.prisma), platformUser).finally(() => db.close());
    expect(files.devices).toBeGreaterThan(100);
    expect(files.skippedWithoutHash).toEqual([]);

    dir = fs.mkdtempSync(path.join(os.tmpdir(), "iot-mosquitto-"));
    // Mosquitto started as root drops to the `mosquitto` user, which must be able to read the files.
    fs.chmodSync(dir, 0o755);
    const port = await freePort();
    const passwordFile = path.join(dir, "passwd");
    const aclFile = path.join(dir, "acl");
    fs.writeFileSync(passwordFile, files.passwd, { mode: 0o644 });
    fs.writeFileSync(aclFile, files.acl, { mode: 0o644 });
    fs.writeFileSync(path.join(dir, "mosquitto.conf"), mosquittoConf({ port, passwordFile, aclFile }), { mode: 0o644 });
    broker = spawn(MOSQUITTO!, ["-c", path.join(dir, "mosquitto.conf")], { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    broker.stderr!.on("data", (d) => (stderr += d));
    url = `mqtt://127.0.0.1:${port}`;
    for (let i = 0; ; i++) {
      const up = await new Promise<boolean>((resolve) => {
        const s = net.connect(port, "127.0.0.1", () => (s.end(), resolve(true)));
        s.once("error", () => resolve(false));
      });
      if (up) break;
      if (i > 100 || broker.exitCode !== null) throw new Error(`mosquitto did not start: ${stderr}`);
      await sleep(50);
    }

    const config = loadConfig({
      PORT: "0",
      HOST: "127.0.0.1",
      DATABASE_URL: database.url,
      DEMO_DATA: "0",
      SIMULATOR_DEVICES: "0",
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? "silent",
      MAP_TILES: "none",
      MQTT_URL: url,
      MQTT_USERNAME: platformUser.username,
      MQTT_PASSWORD: platformUser.password,
    });
    platform = await startPlatform(config, createLogger(config.logLevel));
  });

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.endAsync(true).catch(() => undefined)));
    await platform?.stop();
    broker?.kill("SIGTERM");
    await database?.drop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it("refuses a wrong secret, an unknown device and anonymous logins", async () => {
    const id = demoDeviceId(1);
    await expect(login(id, "wrong-secret")).rejects.toThrow(/not authorized|bad user name or password/i);
    await expect(login("tj-999999", demoDeviceSecret("tj-999999"))).rejects.toThrow();
    await expect(mqtt.connectAsync(url, { reconnectPeriod: 0, connectTimeout: 3000 })).rejects.toThrow();
    const ok = await login(id, demoDeviceSecret(id));
    expect(ok.connected).toBe(true);
  });

  it("does not deliver a device's publish into another device's topics or into its own cmd", async () => {
    const observer = await login(platformUser.username, platformUser.password, `observer-${process.pid}`);
    const seen: string[] = [];
    observer.on("message", (topic) => seen.push(topic));
    await observer.subscribeAsync("lift/v1/#", { qos: 1 });
    const a = demoDeviceId(2);
    const b = demoDeviceId(3);
    const device = await login(a, demoDeviceSecret(a));
    const ts = new Date().toISOString();
    const forged = JSON.stringify({ ts, alarmId: "forged-1", code: "trapped", state: "raised", passengers: true });
    await device.publishAsync(topics.alarm(b), forged, { qos: 1 });
    await device.publishAsync(topics.cmd(a), JSON.stringify({ cmd: "ack", alarmId: "x" }), { qos: 1 });
    await device.publishAsync(`lift/v1/${a}/elsewhere`, "{}", { qos: 1 });
    // Its own uplink goes through: the control that the observer sees what is allowed.
    await device.publishAsync(topics.status(a), "{}", { qos: 1 });
    await expect.poll(() => seen.includes(topics.status(a))).toBe(true);
    await sleep(300);
    expect(seen).not.toContain(topics.alarm(b));
    expect(seen).not.toContain(topics.cmd(a));
    expect(seen).not.toContain(`lift/v1/${a}/elsewhere`);
    expect(await platform.db.prisma.alarm.count({ where: { alarmId: "forged-1" } })).toBe(0);
  });

  it("refuses (or never delivers) a subscription to another device's cmd", async () => {
    const a = demoDeviceId(4);
    const b = demoDeviceId(5);
    const spy = await login(a, demoDeviceSecret(a));
    const got: string[] = [];
    spy.on("message", (topic) => got.push(topic));
    const granted = await spy.subscribeAsync(topics.cmd(b), { qos: 1 });
    const own = await spy.subscribeAsync(topics.cmd(a), { qos: 1 });
    expect(own[0]!.qos).toBe(1);
    const observer = await login(platformUser.username, platformUser.password, `commander-${process.pid}`);
    await observer.publishAsync(topics.cmd(b), JSON.stringify({ cmd: "snapshot" }), { qos: 1 });
    await observer.publishAsync(topics.cmd(a), JSON.stringify({ cmd: "snapshot" }), { qos: 1 });
    await expect.poll(() => got.includes(topics.cmd(a))).toBe(true);
    await sleep(300);
    expect(got).not.toContain(topics.cmd(b));
    // Mosquitto 2.0.11 grants the SUBACK (newer versions answer 0x80) but its ACL check on delivery
    // keeps the other device's commands away, which is what the rule is for.
    expect([1, 128]).toContain(granted[0]!.qos);
  });

  it("works end to end through Mosquitto: a trapped alarm is stored, acknowledged and opens an incident", async () => {
    const device = await connectDemoDevice(url, 6);
    try {
      const alarmId = device.raiseAlarm("trapped", { floor: 4, passengers: true, inDoorZone: false });
      await device.waitForAck(alarmId, 8000);
      const alarm = await platform.db.prisma.alarm.findUniqueOrThrow({
        where: { deviceId_alarmId: { deviceId: device.deviceId, alarmId } },
      });
      expect(alarm).toMatchObject({ code: "trapped", active: true });
      expect(alarm.incidentId).not.toBeNull();
      const incident = await platform.db.prisma.incident.findUniqueOrThrow({ where: { id: alarm.incidentId! } });
      expect(incident.kind).toBe("entrapment");
      await expect.poll(() => platform.ingest.presence.get(device.deviceId)?.online).toBe(true);
    } finally {
      await device.close();
    }
  });
});
