import net from "node:net";
import { describe, expect, it } from "vitest";
import { startTestPlatform } from "../support/platform.ts";

/** A port in use or a server that does not answer ends the start with one clear sentence. */
describe("start-up failures", () => {
  it("names the HTTP port that is in use", async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      await expect(startTestPlatform({ PORT: String(port) })).rejects.toThrow(`HTTP port ${port} is already in use`);
    } finally {
      blocker.close();
    }
  });

  it("names the MQTT port that is in use", async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, resolve));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      await expect(startTestPlatform({ MQTT_PORT: String(port) }, { embeddedBroker: true })).rejects.toThrow(
        `MQTT port ${port} is already in use`,
      );
    } finally {
      blocker.close();
    }
  });

  it("says which database, broker or Redis cannot be reached", async () => {
    await expect(startTestPlatform({ DATABASE_URL: "postgresql://postgres@127.0.0.1:1/none" })).rejects.toThrow(
      /cannot reach the database at 127\.0\.0\.1:1\/none/,
    );
    await expect(startTestPlatform({ MQTT_URL: "mqtt://127.0.0.1:1" })).rejects.toThrow(/MQTT broker at mqtt:\/\/127\.0\.0\.1:1/);
    await expect(startTestPlatform({ REDIS_URL: "redis://127.0.0.1:1" })).rejects.toThrow(/cannot reach Redis at 127\.0\.0\.1:1/);
  });
});
