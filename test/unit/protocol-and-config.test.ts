import { describe, expect, it } from "vitest";
import { alarmPayloadSchema, parseUplinkTopic, statusPayloadSchema } from "../../server/devices/protocol.ts";
import { ConfigError, loadConfig } from "../../server/platform/config.ts";
import { parseDatabaseUrl } from "../../server/platform/db/target.ts";

/** Conformance with docs/protocol.md ("Messages from the device": topics and payloads, with its examples). */
describe("protocol v1", () => {
  it("accepts only lift/v1/{deviceId}/{status|alarm|conn} with a valid device id", () => {
    expect(parseUplinkTopic("lift/v1/tj-000001/alarm")).toEqual({ deviceId: "tj-000001", kind: "alarm" });
    expect(parseUplinkTopic("lift/v1/tj-000001/cmd")).toBeNull();
    expect(parseUplinkTopic("lift/v2/tj-000001/alarm")).toBeNull();
    expect(parseUplinkTopic("lift/v1/a b/alarm")).toBeNull();
    expect(parseUplinkTopic("lift/v1/abc/alarm")).toBeNull(); // shorter than 4
    expect(parseUplinkTopic("lift/v1/tj-000001/alarm/x")).toBeNull();
  });

  it("validates the documented examples and rejects wrong types", () => {
    expect(
      statusPayloadSchema.safeParse({
        ts: "2026-11-27T08:15:02.120Z", seq: 18231, floor: 7, dir: "stop", door: "closed",
        moving: false, inDoorZone: true, passengers: true, mode: "normal", speed: 0.0, load: 35,
      }).success,
    ).toBe(true);
    expect(
      alarmPayloadSchema.safeParse({
        ts: "2026-11-27T08:15:40.003Z", alarmId: "a-000912", code: "trapped", state: "raised",
        floor: 7, passengers: true, inDoorZone: false, detail: "car stopped between floors 7 and 8",
      }).success,
    ).toBe(true);
    expect(statusPayloadSchema.safeParse({ ts: "2026-11-27T08:15:02Z", seq: "1" }).success).toBe(false);
    expect(alarmPayloadSchema.safeParse({ ts: "not a time", alarmId: "a", code: "trapped", state: "raised" }).success).toBe(false);
  });
});

describe("configuration", () => {
  it("defaults to the embedded PGlite, the in-process broker on 1883 and port 3000", () => {
    const config = loadConfig({});
    expect(config.port).toBe(3000);
    expect(config.database.kind).toBe("pglite");
    expect(config.mqtt).toMatchObject({ kind: "embedded", port: 1883 });
    expect(config.redisUrl).toBeNull();
  });

  it("switches to real servers by URL", () => {
    const config = loadConfig({
      DATABASE_URL: "postgresql://u@db.example/lift",
      MQTT_URL: "mqtt://broker.example:1883",
      REDIS_URL: "redis://cache.example:6379",
    });
    expect(config.database).toEqual({ kind: "postgres", url: "postgresql://u@db.example/lift" });
    expect(config.mqtt.kind).toBe("external");
    expect(config.redisUrl).toBe("redis://cache.example:6379");
  });

  it("explains a bad setting in one sentence", () => {
    expect(() => loadConfig({ PORT: "seventy" })).toThrow(ConfigError);
    expect(() => loadConfig({ PORT: "seventy" })).toThrow(/PORT/);
    expect(() => loadConfig({ DATABASE_URL: "mysql://x" })).toThrow(/DATABASE_URL/);
    expect(() => loadConfig({ MQTT_URL: "http://x" })).toThrow(/MQTT_URL/);
  });

  it("reads pglite: URLs as folders or memory", () => {
    expect(parseDatabaseUrl("pglite:memory")).toEqual({ kind: "pglite", dataDir: null });
    expect(parseDatabaseUrl("pglite:/tmp/x")).toEqual({ kind: "pglite", dataDir: "/tmp/x" });
  });
});
