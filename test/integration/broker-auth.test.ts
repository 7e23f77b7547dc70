import { afterAll, beforeAll, describe, expect, it } from "vitest";
import mqtt from "mqtt";
import { startTestPlatform, type TestPlatform } from "../support/platform.ts";
import { demoDeviceId, demoDeviceSecret } from "../../server/devices/secrets.ts";
import { topics } from "../../server/devices/protocol.ts";

/** The embedded broker enforces docs/protocol.md's login and topic rules itself (always embedded here). */
describe("embedded broker security", () => {
  let platform: TestPlatform;
  beforeAll(async () => {
    platform = await startTestPlatform({}, { embeddedBroker: true });
  });
  afterAll(async () => platform?.close());

  const connect = (deviceId: string, password: string) =>
    mqtt.connectAsync(platform.mqttUrl, { clientId: deviceId, username: deviceId, password, reconnectPeriod: 0, connectTimeout: 3000 });

  it("refuses a wrong secret, an unknown device and a username that is not the client id", async () => {
    const id = demoDeviceId(6);
    await expect(connect(id, "wrong-secret")).rejects.toThrow(/Bad username or password|Not authorized/i);
    await expect(connect("not-a-device", "x")).rejects.toThrow(/Bad username or password|Not authorized/i);
    await expect(
      mqtt.connectAsync(platform.mqttUrl, {
        clientId: demoDeviceId(7),
        username: id,
        password: demoDeviceSecret(id),
        reconnectPeriod: 0,
      }),
    ).rejects.toThrow(/Bad username or password|Not authorized/i);
  });

  it("refuses a subscription to another device's cmd and disconnects a publish into its topics", async () => {
    const id = demoDeviceId(7);
    const victim = demoDeviceId(8);
    const client = await connect(id, demoDeviceSecret(id));
    try {
      // SUBACK 0x80: mqtt.js reports the refused grant as an error; the connection stays up.
      await expect(client.subscribeAsync(topics.cmd(victim), { qos: 1 })).rejects.toThrow(/Subscribe error/);
      const own = await client.subscribeAsync(topics.cmd(id), { qos: 1 });
      expect(own[0]?.qos).toBe(1);
      // Its own topic works; the foreign publish after it gets the connection closed and is not ingested.
      await client.publishAsync(topics.alarm(id), JSON.stringify({ ts: new Date().toISOString(), alarmId: "own", code: "ebike_in_car", state: "raised" }), { qos: 1 });
      const closed = new Promise<void>((resolve) => client.once("close", () => resolve()));
      client.publish(topics.alarm(victim), JSON.stringify({ ts: new Date().toISOString(), alarmId: "x", code: "trapped", state: "raised" }), { qos: 0 });
      await closed;
      await expect.poll(() => platform.db.prisma.alarm.count({ where: { deviceId: id, alarmId: "own" } })).toBe(1);
      expect(await platform.db.prisma.alarm.count({ where: { deviceId: victim } })).toBe(0);
    } finally {
      await client.endAsync(true);
    }
  });
});
