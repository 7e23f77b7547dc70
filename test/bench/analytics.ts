/**
 * Supervision analytics benchmark: p50/p95 of every dashboard query and the bulletin, 20 runs each with
 * random filters, through the same repository the routes use. Prepares its own data when the database
 * is empty: the Tianjin demo city with ANALYTICS_BENCH_ELEVATORS lifts and a year of generated history
 * at ANALYTICS_BENCH_RATE incidents per lift-year. Run: `npm run bench:analytics` (DATABASE_URL picks the
 * database; the default is a throwaway PGlite folder) -> bench-results/analytics.json.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { connectDatabase } from "../../server/platform/db/index.ts";
import { describeTarget, parseDatabaseUrl } from "../../server/platform/db/target.ts";
import { ensureDemoData } from "../../server/seed/load.ts";
import { loadDemoHistory } from "../../server/seed/history.ts";
import { createAnalyticsRepository, type Grouping } from "../../server/analytics/repository.ts";
import { bulletinData, renderBulletin } from "../../server/analytics/bulletin.ts";
import { monthsEndingWith, shanghaiMonth, shanghaiMonthBounds } from "../../server/analytics/figures.ts";

const elevators = Number(process.env.ANALYTICS_BENCH_ELEVATORS ?? 20_000);
const rate = Number(process.env.ANALYTICS_BENCH_RATE ?? 1.2);
const RUNS = 20;
const dir = process.env.DATABASE_URL ? null : fs.mkdtempSync(path.join(os.tmpdir(), "analytics-bench-"));
const target = parseDatabaseUrl(process.env.DATABASE_URL ?? `pglite:${dir}`);

const db = await connectDatabase(target);
const { prisma } = db;
const until = shanghaiMonthBounds(shanghaiMonth(new Date())).from;
const started = Date.now();
await ensureDemoData(prisma, { elevators, raw: db.raw });
const written = await loadDemoHistory(prisma, { months: 12, until, raw: db.raw, ratePerElevatorYear: rate });
const prepareS = (Date.now() - started) / 1000;
const incidents = await prisma.incident.count();
const repo = createAnalyticsRepository(prisma);
const districts = (await prisma.district.findMany({ select: { id: true } })).map((d) => d.id);
const companies = (await prisma.maintenanceCompany.findMany({ select: { id: true } })).map((c) => c.id);
const months = monthsEndingWith(shanghaiMonth(new Date(until.getTime() - 1)), 12);
const pick = <T>(items: T[]) => items[Math.floor(Math.random() * items.length)]!;
const randomFilter = () => {
  const a = pick(months);
  const b = pick(months);
  const [from, to] = a < b ? [a, b] : [b, a];
  const filter = { from: shanghaiMonthBounds(from).from, to: shanghaiMonthBounds(to).to } as { from: Date; to: Date; districtId?: number; companyId?: number };
  if (Math.random() < 0.4) filter.districtId = pick(districts);
  if (Math.random() < 0.3) filter.companyId = pick(companies);
  return filter;
};
const groupingsToTime: Grouping[] = ["none", "company", "district", "brand", "ageBand", "placeType", "source", "month"];
const queries: Record<string, () => Promise<unknown>> = {
  ...Object.fromEntries(groupingsToTime.map((g) => [`figures:${g}`, () => repo.figures(randomFilter(), g)])),
  "incidents behind": () => repo.incidentsBehind(randomFilter(), null, 200),
  "call centre": () => repo.callCentre(randomFilter()),
  iot: () => repo.iot(randomFilter()),
  "most trapping 90d": () => repo.mostTrapping({ to: randomFilter().to }, 90, 50),
  repeats: () => repo.repeats(randomFilter(), 500),
  companies: () => repo.companyRecords(randomFilter()),
  bulletin: async () => renderBulletin(await bulletinData(repo, pick(months))),
};
const results: Record<string, { p50Ms: number; p95Ms: number; maxMs: number }> = {};
for (const [name, run] of Object.entries(queries)) {
  await run(); // warm
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    await run();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  const at = (p: number) => Math.round(times[Math.min(times.length - 1, Math.ceil(p * times.length) - 1)]! * 10) / 10;
  results[name] = { p50Ms: at(0.5), p95Ms: at(0.95), maxMs: at(1) };
  console.log(`${name.padEnd(20)} p50 ${String(results[name].p50Ms).padStart(7)} ms  p95 ${String(results[name].p95Ms).padStart(7)} ms`);
}
const summary = { database: describeTarget(target), elevators, incidents, written, prepareS, runs: RUNS, results };
fs.mkdirSync("bench-results", { recursive: true });
fs.writeFileSync("bench-results/analytics.json", JSON.stringify(summary, null, 2));
console.log(JSON.stringify({ database: summary.database, elevators, incidents, prepareS }));
await db.close();
if (dir) fs.rmSync(dir, { recursive: true, force: true });
