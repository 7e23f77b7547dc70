/**
 * Elevator identification benchmark: p50/p99 per lookup kind, through the same ElevatorLookup the REST
 * route uses, on whatever DATABASE_URL holds (load 200,000 elevators with
 * `npm run seed -- --elevators 200000`). Run alone: `tsx test/bench/lookup.ts` -> bench-results/lookup.json.
 */
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { connectDatabase } from "../../server/platform/db/index.ts";
import { describeTarget, parseDatabaseUrl } from "../../server/platform/db/target.ts";
import { ElevatorLookup, type LookupInput } from "../../server/elevators/lookup.ts";
import { createElevatorRepository } from "../../server/elevators/repository.ts";

export interface LookupBenchResult {
  database: string;
  elevators: number;
  sites: number;
  activeAlarms: number;
  iterations: number;
  kinds: Record<string, { p50Ms: number; p99Ms: number; maxMs: number; found: number; runs: number }>;
  budgetMs: number;
  withinBudget: boolean;
}

const BENCH_CALLER_PREFIX = "1999"; // bench callers, recognisable and never a real mobile prefix

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

export async function runLookupBench(options: { databaseUrl?: string; iterations?: number } = {}): Promise<LookupBenchResult> {
  const target = parseDatabaseUrl(options.databaseUrl ?? process.env.DATABASE_URL);
  const iterations = options.iterations ?? 300;
  const db = await connectDatabase(target);
  try {
    const { prisma } = db;
    const elevators = await prisma.elevator.count();
    const sites = await prisma.site.count();
    if (elevators === 0) throw new Error(`${describeTarget(target)} holds no elevators: run npm run seed -- --elevators 200000 first`);

    // Deterministic samples spread over the id range.
    const step = Math.max(1, Math.floor(elevators / iterations));
    const sample = await prisma.$queryRaw<{ id: number; rescueCode: string; registrationCode: string; name: string; address: string }[]>`
      SELECT e.id, e."rescueCode", e."registrationCode", s.name, s.address
      FROM elevators e JOIN sites s ON s.id = e."siteId" WHERE e.id % ${step} = 0 ORDER BY e.id LIMIT ${iterations}`;

    // Callers with history: 2,000 bench calls, created once.
    const callers = sample.map((_, i) => `${BENCH_CALLER_PREFIX}${String(i).padStart(7, "0")}`);
    if ((await prisma.call.count({ where: { callerNumber: { startsWith: BENCH_CALLER_PREFIX } } })) === 0) {
      const now = Date.now();
      await prisma.call.createMany({
        data: Array.from({ length: 2000 }, (_, i) => ({
          callerNumber: callers[i % callers.length]!,
          ringingAt: new Date(now - i * 3600_000),
          elevatorId: sample[i % sample.length]!.id,
          source: "manual",
        })),
      });
    }

    // Open alarms to find nearby: 1,000 active ones on devices spread over the city (a bad afternoon).
    let benchAlarms = await prisma.alarm.count({ where: { active: true } });
    if (benchAlarms < 1000) {
      const inserted = await prisma.$executeRaw`
        INSERT INTO alarms ("deviceId", "alarmId", code, "rawCode", severity, active, "raisedAt", "receivedAt", "elevatorId")
        SELECT d.id, 'bench-' || d.id, 'trapped', 'trapped', 'critical', true, now(), now(), d."elevatorId"
        FROM devices d WHERE d."elevatorId" IS NOT NULL AND d."elevatorId" % 150 = 0 LIMIT 1000
        ON CONFLICT DO NOTHING`;
      benchAlarms += inserted;
    }

    const lookup = new ElevatorLookup(createElevatorRepository(prisma));
    const base = { radiusM: 1000, limit: 20 } satisfies Partial<LookupInput>;
    const mutate = (code: string, i: number) => code.slice(0, 5) + String((Number(code[5]) + 1 + (i % 8)) % 10);
    const kinds: Record<string, (i: number) => LookupInput> = {
      rescue_code: (i) => ({ ...base, q: sample[i]!.rescueCode }),
      registration_code: (i) => ({ ...base, q: sample[i]!.registrationCode }),
      // Mostly misses answered with close matches (one digit off).
      unknown_rescue_code: (i) => ({ ...base, q: mutate(sample[i]!.rescueCode, i) }),
      address_fragment: (i) => ({ ...base, q: sample[i]!.address.replace(/^天津市/, "").slice(3) }),
      site_name: (i) => ({ ...base, q: sample[i]!.name }),
      caller_history: (i) => ({ ...base, q: callers[i % callers.length]! }),
      nearby_alarms: (i) => ({ ...base, lat: 39.05 + (i % 20) * 0.01, lng: 117.1 + (i % 20) * 0.01 }),
    };

    const result: LookupBenchResult["kinds"] = {};
    for (const [kind, make] of Object.entries(kinds)) {
      for (let i = 0; i < 10; i++) await lookup.lookup(make(i)); // warm the plan cache and pages
      const times: number[] = [];
      let found = 0;
      for (let i = 0; i < sample.length; i++) {
        const t = performance.now();
        const r = await lookup.lookup(make(i));
        times.push(performance.now() - t);
        if (r.found || r.closeMatches.length || r.nearbyAlarms.length || kind === "nearby_alarms") found++;
      }
      times.sort((a, b) => a - b);
      const r2 = (n: number) => Math.round(n * 100) / 100;
      result[kind] = { p50Ms: r2(percentile(times, 50)), p99Ms: r2(percentile(times, 99)), maxMs: r2(times.at(-1)!), found, runs: times.length };
    }
    const budgetMs = 50;
    return {
      database: `${target.kind} ${describeTarget(target)}`,
      elevators,
      sites,
      activeAlarms: benchAlarms,
      iterations: sample.length,
      kinds: result,
      budgetMs,
      withinBudget: Object.values(result).every((k) => k.p99Ms < budgetMs),
    };
  } finally {
    await db.close();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const result = await runLookupBench();
  fs.mkdirSync("bench-results", { recursive: true });
  fs.writeFileSync("bench-results/lookup.json", JSON.stringify(result, null, 2) + "\n");
  console.table(result.kinds);
  console.log(`${result.database}: ${result.elevators} elevators, ${result.sites} sites, ${result.activeAlarms} active alarms; p99 < ${result.budgetMs} ms: ${result.withinBudget}`);
}
