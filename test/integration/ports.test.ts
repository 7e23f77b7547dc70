import net from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { listenOn } from "../../server/platform/listen.ts";
import { loadConfig } from "../../server/platform/config.ts";

/** `npm ci && npm start` on a machine that already runs Mosquitto (1883) or another app (3000). */
describe("ports", () => {
  const servers: net.Server[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
  });
  const blocker = async () => {
    const s = net.createServer();
    servers.push(s);
    await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
    return (s.address() as net.AddressInfo).port;
  };

  it("knows which ports the user chose", () => {
    expect(loadConfig({}).portsMayMove).toEqual({ http: true, mqtt: true, mqttTls: true });
    expect(loadConfig({ PORT: "3000", MQTT_PORT: "1883" }).portsMayMove).toEqual({ http: false, mqtt: false, mqttTls: true });
  });

  it("a default port that is taken moves to the next free one", async () => {
    const taken = await blocker();
    const server = net.createServer();
    servers.push(server);
    const port = await listenOn(server, { port: taken, host: "127.0.0.1", mayMove: true, name: "HTTP", setting: "set PORT" });
    expect(port).toBeGreaterThan(taken);
    expect(port).toBeLessThan(taken + 20);
  });

  it("a port the user chose that is taken stops with a sentence naming the setting", async () => {
    const taken = await blocker();
    const server = net.createServer();
    servers.push(server);
    await expect(listenOn(server, { port: taken, host: "127.0.0.1", mayMove: false, name: "MQTT", setting: "set MQTT_PORT" })).rejects.toThrow(
      `MQTT port ${taken} is already in use (set MQTT_PORT)`,
    );
  });
});
