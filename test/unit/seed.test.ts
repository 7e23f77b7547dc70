import { describe, it, expect } from "vitest";
import { booleanPointInPolygon } from "@turf/boolean-point-in-polygon";
import { DEMO_CREW_PREFIX, DEMO_PASSWORD, demoCrewUsername, generateTianjinDemo, type DemoData } from "../../server/seed/tianjin.ts";
import { hashPassword, verifyPassword } from "../../server/auth/password.ts";
import { demoDeviceId, demoDeviceSecret, verifyDeviceSecret } from "../../server/devices/secrets.ts";

const NOW = new Date("2026-11-27T00:00:00Z");
const DAY = 86_400_000;
const data: DemoData = generateTianjinDemo({ seed: 96333, elevators: 3000, now: NOW });

const CODES: Record<string, string> = {
  "120101": "和平区", "120102": "河东区", "120103": "河西区", "120104": "南开区", "120105": "河北区", "120106": "红桥区",
  "120110": "东丽区", "120111": "西青区", "120112": "津南区", "120113": "北辰区", "120114": "武清区", "120115": "宝坻区",
  "120116": "滨海新区", "120117": "宁河区", "120118": "静海区", "120119": "蓟州区",
};

describe("generateTianjinDemo", () => {
  it("is deterministic for a seed and differs between seeds", () => {
    expect(generateTianjinDemo({ seed: 96333, elevators: 3000, now: NOW })).toEqual(data);
    const other = generateTianjinDemo({ seed: 7, elevators: 3000, now: NOW });
    expect(other.elevators.map((e) => e.rescueCode)).not.toEqual(data.elevators.map((e) => e.rescueCode));
    expect(other.sites.map((s) => s.lat)).not.toEqual(data.sites.map((s) => s.lat));
  });

  it("has the 16 districts with their GB/T 2260 codes and outlines", () => {
    expect(data.districts).toHaveLength(16);
    expect(Object.fromEntries(data.districts.map((d) => [d.code, d.name]))).toEqual(CODES);
    expect(data.districts.filter((d) => d.central).map((d) => d.code)).toEqual(
      ["120101", "120102", "120103", "120104", "120105", "120106"],
    );
    for (const d of data.districts) {
      expect(d.arrivalLimitMinutes).toBe(30);
      expect(d.outline.coordinates.length).toBeGreaterThan(0);
      expect(booleanPointInPolygon([d.centerLng, d.centerLat], d.outline)).toBe(true);
    }
    const jizhou = data.districts.find((d) => d.code === "120119")!;
    expect(JSON.stringify(jizhou.outline.coordinates).length).toBeGreaterThan(1000);
  });

  it("produces the requested counts and contiguous ids", () => {
    expect(data.elevators).toHaveLength(3000);
    expect(data.companies.length).toBeGreaterThanOrEqual(20);
    expect(data.companies.length).toBeLessThanOrEqual(30);
    expect(data.rescueStations).toHaveLength(120);
    expect(data.fireStations).toHaveLength(30);
    for (const rows of [data.districts, data.companies, data.sites, data.elevators, data.rescueStations, data.fireStations, data.teams, data.users]) {
      expect(rows.map((r) => r.id)).toEqual(rows.map((_, i) => i + 1));
    }
    const perSite = new Map<number, number>();
    for (const e of data.elevators) perSite.set(e.siteId, (perSite.get(e.siteId) ?? 0) + 1);
    expect(perSite.size).toBe(data.sites.length);
    for (const n of perSite.values()) expect(n >= 1 && n <= 6).toBe(true);
  });

  it("gives each company 2-5 maintenance teams and each station one team", () => {
    const teams = data.teams.filter((t) => t.kind === "maintenance");
    for (const c of data.companies) {
      const n = teams.filter((t) => t.maintenanceCompanyId === c.id).length;
      expect(n >= 2 && n <= 5).toBe(true);
    }
    for (const s of data.rescueStations) {
      expect(data.teams.filter((t) => t.kind === "rescue_station" && t.rescueStationId === s.id)).toHaveLength(1);
    }
    for (const s of data.fireStations) {
      expect(data.teams.filter((t) => t.kind === "fire" && t.fireStationId === s.id)).toHaveLength(1);
    }
    expect(new Set(data.teams.map((t) => t.name)).size).toBe(data.teams.length);
  });

  it("assigns unique, well-formed rescue and registration codes", () => {
    const rescue = data.elevators.map((e) => e.rescueCode);
    const registration = data.elevators.map((e) => e.registrationCode);
    expect(new Set(rescue).size).toBe(rescue.length);
    expect(new Set(registration).size).toBe(registration.length);
    for (const code of rescue) expect(code).toMatch(/^[1-9]\d{5}$/);
    // Not handed out in order.
    expect(rescue.slice(0, 10).sort()).not.toEqual(rescue.slice(0, 10));
    const typeCodes: Record<string, string> = { traction: "3110", hydraulic: "3210", escalator: "3310", moving_walk: "3320" };
    for (const e of data.elevators) {
      expect(e.registrationCode).toMatch(/^\d{20}$/);
      const district = data.districts[data.sites[e.siteId - 1]!.districtId - 1]!;
      expect(e.registrationCode.slice(0, 4)).toBe(typeCodes[e.type]);
      expect(e.registrationCode.slice(4, 10)).toBe(district.code);
      expect(e.registrationCode.slice(10, 14)).toBe(String(e.installDate.getUTCFullYear()));
    }
  });

  it("keeps elevator attributes in range", () => {
    for (const e of data.elevators) {
      expect(e.floors >= 2 && e.floors <= 33).toBe(true);
      expect(e.installDate.getUTCFullYear()).toBeGreaterThanOrEqual(1995);
      expect(e.installDate.getTime()).toBeLessThanOrEqual(NOW.getTime());
      expect(e.nextInspectionDue.getTime()).toBeGreaterThan(NOW.getTime());
      expect(e.nextInspectionDue.getTime()).toBeLessThanOrEqual(NOW.getTime() + 366 * DAY);
      expect(e.lastMaintenanceAt.getTime()).toBeLessThanOrEqual(NOW.getTime());
      expect(e.lastMaintenanceAt.getTime()).toBeGreaterThanOrEqual(NOW.getTime() - 15 * DAY);
      expect(e.maintenanceCompanyId >= 1 && e.maintenanceCompanyId <= data.companies.length).toBe(true);
      expect(e.unitNo).not.toBe("");
    }
    const types = new Set(data.elevators.map((e) => e.type));
    expect(types.has("traction") && types.has("escalator") && types.has("hydraulic")).toBe(true);
    expect(data.elevators.filter((e) => e.type === "traction").length / data.elevators.length).toBeGreaterThan(0.75);
  });

  it("places every site, station and team base inside its district outline", () => {
    const outline = (districtId: number) => data.districts[districtId - 1]!.outline;
    for (const s of [...data.sites, ...data.rescueStations, ...data.fireStations]) {
      expect(booleanPointInPolygon([s.lng, s.lat], outline(s.districtId))).toBe(true);
    }
    const city = data.districts.map((d) => d.outline);
    for (const t of data.teams) {
      expect(city.some((o) => booleanPointInPolygon([t.baseLng, t.baseLat], o))).toBe(true);
    }
  });

  it("puts about 60% of elevators in the six central districts", () => {
    const central = data.elevators.filter((e) => data.districts[data.sites[e.siteId - 1]!.districtId - 1]!.central).length;
    expect(central / data.elevators.length).toBeGreaterThan(0.55);
    expect(central / data.elevators.length).toBeLessThan(0.65);
    const stationsCentral = data.rescueStations.filter((s) => data.districts[s.districtId - 1]!.central).length;
    expect(stationsCentral).toBeGreaterThan(50);
    expect(new Set(data.rescueStations.map((s) => s.districtId)).size).toBe(16);
  });

  it("gives ~85% of elevators a demo device with contiguous ids and derivable secrets", () => {
    const share = data.devices.length / data.elevators.length;
    expect(share).toBeGreaterThan(0.82);
    expect(share).toBeLessThan(0.88);
    data.devices.forEach((d, i) => expect(d.id).toBe(demoDeviceId(i)));
    expect(new Set(data.devices.map((d) => d.elevatorId)).size).toBe(data.devices.length);
    for (const d of data.devices.slice(0, 50)) expect(verifyDeviceSecret(demoDeviceSecret(d.id), d.secretHash)).toBe(true);
  });

  it("has the demo users, and a crew account for every team without one", () => {
    const named = data.users.filter((u) => !u.username.startsWith(DEMO_CREW_PREFIX));
    expect(named.map((u) => u.username)).toEqual(["dispatcher", "supervisor", "admin", "company1", "rescuer1", "rescuer2", "rescuer3"]);
    expect(data.users.every((u) => u.password === DEMO_PASSWORD)).toBe(true);
    expect(data.users.find((u) => u.username === "company1")).toMatchObject({ role: "company_admin", maintenanceCompanyId: 1 });
    expect(named.filter((u) => u.role === "rescuer").map((u) => u.teamId)).toEqual([1, 2, 3]);
    // Every team has exactly one rescuer account: rescuer1-3 for the first three, crew-<id> for the rest.
    const rescuers = data.users.filter((u) => u.role === "rescuer");
    expect(rescuers.map((u) => u.teamId).sort((a, b) => a! - b!)).toEqual(data.teams.map((t) => t.id));
    for (const team of data.teams.slice(3)) {
      expect(data.users.find((u) => u.teamId === team.id)).toMatchObject({ username: demoCrewUsername(team.id), role: "rescuer", maintenanceCompanyId: team.maintenanceCompanyId });
    }
  });

  it("scales to 200,000 elevators with unique codes", { timeout: 120_000 }, () => {
    const big = generateTianjinDemo({ seed: 1, elevators: 200_000, now: NOW });
    expect(big.elevators).toHaveLength(200_000);
    expect(new Set(big.elevators.map((e) => e.rescueCode)).size).toBe(200_000);
    expect(new Set(big.elevators.map((e) => e.registrationCode)).size).toBe(200_000);
    expect(big.rescueStations).toHaveLength(120);
  });

  it("rejects impossible sizes", () => {
    expect(() => generateTianjinDemo({ elevators: -1 })).toThrow(/elevators/);
    expect(() => generateTianjinDemo({ elevators: 2_000_000 })).toThrow(/elevators/);
  });
});

describe("password hashing", () => {
  it("verifies the right password and rejects wrong ones and malformed hashes", async () => {
    const hash = await hashPassword(DEMO_PASSWORD);
    expect(hash).toMatch(/^scrypt\$16384\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
    expect(await hashPassword(DEMO_PASSWORD)).not.toBe(hash);
    expect(await verifyPassword(DEMO_PASSWORD, hash)).toBe(true);
    expect(await verifyPassword("demo96334", hash)).toBe(false);
    expect(await verifyPassword(DEMO_PASSWORD, "")).toBe(false);
    expect(await verifyPassword(DEMO_PASSWORD, hash.replace("$16384$", "$16383$"))).toBe(false);
    expect(await verifyPassword(DEMO_PASSWORD, "bcrypt$x")).toBe(false);
  });
});
