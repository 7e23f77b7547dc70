/**
 * Dispatch benchmark: ranking 10,000 teams for one incident (p50/p99), and a 500-entrapment
 * power cut end to end on the real server (open + offer, time until every incident has a team or is left
 * `reported` for want of one). `tsx test/bench/dispatch.ts` writes bench-results/dispatch.json;
 * test/bench/run.ts calls runDispatchBench().
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { StraightLineEstimator } from "../../server/dispatch/estimator.ts";
import { TeamIndex, type IndexedTeam } from "../../server/dispatch/team-index.ts";
import { tiersToTry, defaultTierPolicy, rankingGroupOfTier, tierOfKind } from "../../server/dispatch/policy.ts";
import { openOrAttachIncident } from "../../server/incidents/repository/writes.ts";
import type { Platform } from "../../server/app.ts";
import { Gate } from "../../server/dispatch/gate.ts";
import { PGlite } from "@electric-sql/pglite";

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;

/** A deterministic pseudo-random stream, so that runs compare. */
function rng(seed: number) {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0) / 2 ** 32);
}

export interface RankingBenchResult {
  teams: number;
  companies: number;
  queries: number;
  p50Us: number;
  p99Us: number;
  maxUs: number;
  bruteForceP50Us: number;
  bruteForceP99Us: number;
  tierMismatches: number;
}

/**
 * 10,000 teams over the Tianjin area (companies' maintenance teams, rescue stations, fire stations), a
 * fifth busy or off duty, a third with a live position; each query picks the best team by the tier
 * policy for a random elevator, as the dispatch engine does.
 */
export function rankingBench(options: { teams?: number; companies?: number; queries?: number; seed?: number } = {}): RankingBenchResult {
  const total = options.teams ?? 10_000;
  const companies = options.companies ?? 60;
  const queries = options.queries ?? 10_000;
  const random = rng(options.seed ?? 96333);
  const now = new Date("2026-11-27T04:00:00Z");
  const area = () => ({ lat: 38.95 + random() * 0.35, lng: 117.0 + random() * 0.45 });
  const teams = new Map<number, IndexedTeam>();
  for (let id = 1; id <= total; id++) {
    const kind = id <= total * 0.8 ? "maintenance" : id <= total * 0.95 ? "rescue_station" : "fire";
    const base = area();
    const live = random() < 0.33 ? area() : null;
    const r = random();
    teams.set(id, {
      id,
      kind,
      status: r < 0.8 ? "available" : r < 0.9 ? "busy" : "off_duty",
      maintenanceCompanyId: kind === "maintenance" ? 1 + (id % companies) : null,
      baseLat: base.lat,
      baseLng: base.lng,
      lat: live?.lat ?? null,
      lng: live?.lng ?? null,
      positionAt: live ? new Date(now.getTime() - random() * 10 * 60_000) : null,
      travelRatio: 0.7 + random() * 0.8,
    });
  }
  const estimator = new StraightLineEstimator();
  const index = new TeamIndex(teams, 5 * 60_000);
  const available = (t: IndexedTeam) => t.status === "available";
  const pick = (target: { lat: number; lng: number }, companyId: number) => {
    for (const tier of tiersToTry(defaultTierPolicy)) {
      const [best] = index.nearest(rankingGroupOfTier(tier, companyId), target, { at: now, detourFactor: 1.3 }, estimator, available);
      if (best) return best;
    }
    return null;
  };
  const all = [...teams.values()];
  const targets = Array.from({ length: queries }, () => ({ ...area(), companyId: 1 + Math.floor(random() * companies) }));
  // Warm up (JIT, first tree builds), then measure.
  for (const t of targets.slice(0, 500)) pick(t, t.companyId);
  const times: number[] = [];
  for (const t of targets) {
    const start = performance.now();
    pick(t, t.companyId);
    times.push((performance.now() - start) * 1000);
  }
  // The old way for comparison (and as a check): rank every team, then filter.
  const brute: number[] = [];
  let mismatches = 0;
  for (const t of targets.slice(0, 300)) {
    const start = performance.now();
    const eligible = all.filter((team) => available(team) && (team.kind !== "maintenance" || team.maintenanceCompanyId === t.companyId));
    const tierOf = (team: (typeof all)[number]) => tierOfKind(team.kind);
    const ranked = eligible
      .map((team) => ({ team, etaS: estimator.estimate({ lat: team.baseLat, lng: team.baseLng }, t, { at: now, detourFactor: 1.3, travelRatio: team.travelRatio }).etaS }))
      .sort((a, b) => tierOf(a.team) - tierOf(b.team) || a.etaS - b.etaS || a.team.id - b.team.id);
    brute.push((performance.now() - start) * 1000);
    if (ranked[0] && pick(t, t.companyId)?.team.kind !== ranked[0].team.kind) mismatches++;
  }
  times.sort((a, b) => a - b);
  brute.sort((a, b) => a - b);
  return {
    teams: total,
    companies,
    queries,
    p50Us: round(percentile(times, 50)),
    p99Us: round(percentile(times, 99)),
    maxUs: round(times[times.length - 1]!),
    bruteForceP50Us: round(percentile(brute, 50)),
    bruteForceP99Us: round(percentile(brute, 99)),
    tierMismatches: mismatches,
  };
}

export interface PowerCutResult {
  incidents: number;
  teams: number;
  totalMs: number;
  openMs: number;
  dispatchP50Ms: number;
  dispatchP99Ms: number;
  dispatched: number;
  reportedNoTeam: number;
  offers: number;
  teamsWithSeveralOffers: number;
  /** SQL statements the database ran during the cut (PGlite only; transaction BEGIN/COMMIT included). */
  statements?: number;
  transactions?: number;
  statementsPerIncident?: number;
  statementsPerOffer?: number;
}

/**
 * Counts the statements PGlite runs (every Prisma call ends in one `query`, every transaction in BEGIN and
 * COMMIT), so the benchmark shows round trips per incident and per offer beside the times. With
 * BENCH_SQL_LOG=1 it also prints the most frequent statement shapes.
 */
function countPGliteStatements() {
  const counts = { statements: 0, transactions: 0, shapes: new Map<string, number>() };
  const shape = (sql: string) => sql.replace(/\s+/g, " ").slice(0, 160);
  const note = (sql: string) => {
    counts.statements++;
    if (process.env.BENCH_SQL_LOG) counts.shapes.set(shape(sql), (counts.shapes.get(shape(sql)) ?? 0) + 1);
  };
  const proto = PGlite.prototype as unknown as {
    query: (sql: string, ...rest: unknown[]) => Promise<unknown>;
    transaction: (fn: (tx: { query: (sql: string, ...rest: unknown[]) => Promise<unknown> }) => Promise<unknown>) => Promise<unknown>;
  };
  const query = proto.query;
  const transaction = proto.transaction;
  proto.query = function (sql, ...rest) {
    note(sql);
    return query.call(this, sql, ...rest);
  };
  proto.transaction = function (fn) {
    counts.transactions++;
    counts.statements += 2;
    return transaction.call(this, (tx) => {
      const inner = tx.query;
      tx.query = (sql, ...rest) => {
        note(sql);
        return inner(sql, ...rest);
      };
      return fn(tx);
    });
  };
  return {
    counts,
    restore() {
      proto.query = query;
      proto.transaction = transaction;
    },
  };
}

/** Makes sure `count` elevators exist, adding lifts to existing buildings (a power cut hits whole blocks). */
export async function ensureElevators(platform: Platform, count: number): Promise<number[]> {
  const prisma = platform.db.prisma;
  const existing = await prisma.elevator.findMany({ orderBy: { id: "asc" } });
  if (existing.length < count) {
    const codes = new Set(existing.map((e) => e.rescueCode));
    const rows = [];
    for (let i = 0, n = 0; rows.length < count - existing.length; i++) {
      const code = String(900000 - i);
      if (codes.has(code)) continue;
      const model = existing[n++ % existing.length]!;
      const { id: _id, ...copy } = model;
      rows.push({ ...copy, rescueCode: code, registrationCode: `99${String(i).padStart(18, "0")}`, unitNo: `${model.unitNo} 加装${i}` });
    }
    await prisma.elevator.createMany({ data: rows });
  }
  return (await prisma.elevator.findMany({ select: { id: true }, orderBy: { id: "asc" }, take: count })).map((e) => e.id);
}

/** 500 entrapments reported at once: each opens its incident and is dispatched, all concurrently. */
export async function powerCut(platform: Platform, count = 500): Promise<PowerCutResult & { incidentIds: number[] }> {
  const prisma = platform.db.prisma;
  const elevatorIds = await ensureElevators(platform, count);
  const reportedAt = new Date();
  const counter = platform.db.target.kind === "pglite" ? countPGliteStatements() : null;
  const started = performance.now();
  const perIncident: number[] = [];
  let opened = 0;
  let openMs = 0;
  // Reports arrive all at once; opening them is bounded like the alarm pipeline's own transactions.
  const opening = new Gate(8);
  const incidentIds = await Promise.all(
    elevatorIds.map(async (elevatorId) => {
      const t0 = performance.now();
      const { incidentId } = await opening.run(() =>
        prisma.$transaction((tx) =>
          openOrAttachIncident(tx, { elevatorId, kind: "entrapment", source: "alarm", reportedAt, actor: { type: "device", id: `power-cut-${elevatorId}` } }),
        ),
      );
      if (++opened === count) openMs = performance.now() - started;
      await platform.dispatch.offers.autoDispatch(incidentId);
      perIncident.push(performance.now() - t0);
      return incidentId;
    }),
  );
  const totalMs = performance.now() - started;
  counter?.restore();
  perIncident.sort((a, b) => a - b);
  const incidents = await prisma.incident.findMany({ where: { id: { in: incidentIds } }, select: { status: true } });
  const offers = await prisma.dispatchOffer.findMany({ where: { incidentId: { in: incidentIds } }, select: { teamId: true } });
  const perTeam = new Map<number, number>();
  for (const o of offers) perTeam.set(o.teamId, (perTeam.get(o.teamId) ?? 0) + 1);
  if (counter && process.env.BENCH_SQL_LOG) {
    const top = [...counter.counts.shapes].sort((a, b) => b[1] - a[1]).slice(0, 40);
    for (const [sql, n] of top) console.error(String(n).padStart(6), sql);
  }
  return {
    incidentIds,
    incidents: count,
    teams: await prisma.team.count(),
    totalMs: Math.round(totalMs),
    openMs: Math.round(openMs),
    dispatchP50Ms: Math.round(percentile(perIncident, 50)),
    dispatchP99Ms: Math.round(percentile(perIncident, 99)),
    dispatched: incidents.filter((i) => i.status === "dispatched").length,
    reportedNoTeam: incidents.filter((i) => i.status === "reported").length,
    offers: offers.length,
    teamsWithSeveralOffers: [...perTeam.values()].filter((n) => n > 1).length,
    ...(counter
      ? {
          statements: counter.counts.statements,
          transactions: counter.counts.transactions,
          statementsPerIncident: round(counter.counts.statements / count),
          statementsPerOffer: offers.length ? round(counter.counts.statements / offers.length) : 0,
        }
      : {}),
  };
}

export async function runDispatchBench(options: { elevators?: number; incidents?: number } = {}) {
  const ranking = rankingBench();
  const { loadConfig } = await import("../../server/platform/config.ts");
  const { createLogger } = await import("../../server/platform/logger.ts");
  const { startPlatform } = await import("../../server/app.ts");
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "lift96333-dispatch-bench-"));
  const config = loadConfig({
    PORT: "0",
    HOST: "127.0.0.1",
    MQTT_PORT: "0",
    DATABASE_URL: `pglite:${dir}`,
    DEMO_DATA: "1",
    DEMO_ELEVATORS: String(options.elevators ?? 3000),
    SIMULATOR_DEVICES: "0",
    LOG_LEVEL: "silent",
    MAP_TILES: "none",
    // Offers only: keep early-warning escalations out of the measurement.
    SLA_TICK_MS: "60000",
  });
  const platform = await startPlatform(config, createLogger("silent"));
  try {
    const { incidentIds: _ids, ...cut } = await powerCut(platform, options.incidents ?? 500);
    return { ranking, powerCut: { database: "pglite", elevators: options.elevators ?? 3000, ...cut } };
  } finally {
    await platform.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const result = await runDispatchBench();
  fs.mkdirSync("bench-results", { recursive: true });
  fs.writeFileSync("bench-results/dispatch.json", JSON.stringify(result, null, 2) + "\n");
  console.log(JSON.stringify(result, null, 2));
  process.exit(0);
}
