import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { decideFlap, defaultFlapPolicy } from "../../server/alarms/catalogue.ts";
import { mosquittoPasswordHash } from "../../server/devices/secrets.ts";
import { mosquittoConf } from "../../server/devices/mosquitto.ts";
import { loadConfig } from "../../server/platform/config.ts";

const now = new Date("2026-11-27T08:00:00Z");
const ago = (ms: number) => new Date(now.getTime() - ms);

describe("iot: flapping damping (pure)", () => {
  it("starts flapping on the third cycle within the window and folds further raises", () => {
    const latest = { flapping: false, lastRaisedAt: null, receivedAt: ago(10_000) };
    expect(decideFlap({ latest: null, clearedInWindow: 0, now }, defaultFlapPolicy)).toBe("new");
    expect(decideFlap({ latest, clearedInWindow: 1, now }, defaultFlapPolicy)).toBe("new");
    expect(decideFlap({ latest, clearedInWindow: 2, now }, defaultFlapPolicy)).toBe("start_flapping");
    expect(decideFlap({ latest: { ...latest, flapping: true, lastRaisedAt: ago(60_000) }, clearedInWindow: 0, now }, defaultFlapPolicy)).toBe("fold");
  });

  it("lets a flapping alarm go quiet: after a window without raises a new alarm is new again", () => {
    const stale = { flapping: true, lastRaisedAt: ago(defaultFlapPolicy.windowMs + 1), receivedAt: ago(3_600_000) };
    expect(decideFlap({ latest: stale, clearedInWindow: 0, now }, defaultFlapPolicy)).toBe("new");
  });

  it("never folds below the cycle threshold (property)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 20 }), fc.integer({ min: 0, max: 40 }), (cycles, cleared) => {
        const d = decideFlap(
          { latest: { flapping: false, lastRaisedAt: null, receivedAt: now }, clearedInWindow: cleared, now },
          { cycles, windowMs: 300_000 },
        );
        expect(d).toBe(cleared >= cycles - 1 ? "start_flapping" : "new");
      }),
    );
  });
});

describe("iot: mosquitto export and settings", () => {
  it("hashes like mosquitto_passwd ($7$, PBKDF2-SHA512, 101 iterations, 12-byte salt)", () => {
    // Reference line written by `mosquitto_passwd -c -b p user pass` (mosquitto 2.0.11).
    const reference = "$7$101$vRee0O/yHWKVwq4k$VvkRtM5exBOYAsJOXuCbzUDDJOq7u/YJQ2LfXvtE93zvaeYW5xclQQwIy44KYOZ+SQ/yAmelDzwi5EimD697Kw==";
    expect(mosquittoPasswordHash("pass", Buffer.from("vRee0O/yHWKVwq4k", "base64"))).toBe(reference);
    expect(mosquittoPasswordHash("pass")).toMatch(/^\$7\$101\$[A-Za-z0-9+/]{16}\$[A-Za-z0-9+/]{86}==$/);
  });

  it("writes a broker config without anonymous access or persistence", () => {
    const conf = mosquittoConf({ port: 18830, passwordFile: "/x/passwd", aclFile: "/x/acl" });
    expect(conf).toContain("allow_anonymous false");
    expect(conf).toContain("listener 18830 127.0.0.1");
    expect(conf).toContain("persistence false");
  });

  it("reads the IoT settings with defaults and refuses nonsense", () => {
    expect(loadConfig({}).iot).toEqual({ offlineAfterS: 60, liveFanoutMs: 500, flapCycles: 3, flapWindowS: 300 });
    expect(() => loadConfig({ DEVICE_OFFLINE_AFTER_S: "0" })).toThrow(/DEVICE_OFFLINE_AFTER_S/);
    expect(() => loadConfig({ ALARM_FLAP_CYCLES: "1" })).toThrow(/ALARM_FLAP_CYCLES/);
  });
});
