import { describe, expect, it } from "vitest";
import { skipReason } from "../support/skip.ts";
import { MOSQUITTO_BIN, POSTGRES_BIN_DIR } from "../support/own-services.ts";
import { runSoak } from "../soak/soak.ts";

const missing = skipReason(
  !MOSQUITTO_BIN ? "mosquitto is not installed: soak skipped" : !POSTGRES_BIN_DIR ? "PostgreSQL server binaries are not installed: soak skipped" : null,
);

/** The CI version of `npm run soak`: 5,000 alarms, the same three faults, exactly once by device + alarmId. */
describe.skipIf(missing)("faults: soak (CI size)", () => {
  it("stores every alarm exactly once through a broker restart, a server SIGKILL and a PostgreSQL restart", async () => {
    const result = await runSoak({
      alarms: Number(process.env.SOAK_ALARMS ?? 5_000),
      devices: Number(process.env.SOAK_DEVICES ?? 200),
      dbOutageMs: 10_000,
      brokerOutageMs: 3_000,
      drainTimeoutMs: 240_000,
    });
    console.log(`soak: ${JSON.stringify(result)}`);
    expect(result.missing).toBe(0);
    expect(result.duplicates).toBe(0);
    expect(result.distinctStored).toBe(result.alarmsSent);
    expect(result.faults.map((f) => f.fault)).toEqual(["broker restart", "server SIGKILL + restart", "PostgreSQL restart"]);
  }, 900_000);
});
