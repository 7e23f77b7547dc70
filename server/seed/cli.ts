import { connectDatabase, type Database } from "../platform/db/index.ts";
import { describeTarget, parseDatabaseUrl } from "../platform/db/target.ts";
import { refuseOpenPGlite } from "../platform/db/in-use.ts";
import { countDemoData, isDatabaseEmpty, loadDemoData } from "./load.ts";
import { DEFAULT_ELEVATORS, DEFAULT_SEED, MAX_ELEVATORS, generateTianjinDemo } from "./tianjin.ts";

const USAGE = "usage: npm run seed -- [--elevators N] [--seed N] [--reset]";

interface Args {
  elevators: number;
  seed: number;
  reset: boolean;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { elevators: DEFAULT_ELEVATORS, seed: DEFAULT_SEED, reset: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [flag, inline] = arg.split("=", 2) as [string, string | undefined];
    const value = () => {
      const raw = inline ?? argv[++i];
      const n = Number(raw);
      if (raw === undefined || !Number.isSafeInteger(n)) throw new Error(`${flag} needs an integer value (${USAGE})`);
      return n;
    };
    if (flag === "--elevators") args.elevators = value();
    else if (flag === "--seed") args.seed = value();
    else if (flag === "--reset") args.reset = true;
    else if (flag === "--help" || flag === "-h") {
      console.log(USAGE);
      process.exit(0);
    } else throw new Error(`unknown option ${arg} (${USAGE})`);
  }
  if (args.elevators < 0 || args.elevators > MAX_ELEVATORS) {
    throw new Error(`--elevators must be between 0 and ${MAX_ELEVATORS}`);
  }
  return args;
}

async function truncateAppTables(db: Database): Promise<void> {
  const tables = await db.raw.query<{ tablename: string }>(
    `SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND tablename <> '_prisma_migrations'`,
  );
  if (tables.length === 0) return;
  await db.raw.exec(`TRUNCATE ${tables.map((t) => `"${t.tablename}"`).join(", ")} RESTART IDENTITY CASCADE`);
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const target = parseDatabaseUrl(process.env.DATABASE_URL);
  refuseOpenPGlite(target);
  const started = performance.now();
  const db = await connectDatabase(target);
  const { prisma } = db;
  try {
    if (db.migrationsApplied.length) console.log(`applied migrations: ${db.migrationsApplied.join(", ")}`);
    if (args.reset) {
      await truncateAppTables(db);
      console.log(`emptied all tables of ${describeTarget(target)}`);
    }
    if (!(await isDatabaseEmpty(prisma))) {
      console.log(`${describeTarget(target)} already holds data; nothing loaded (use --reset to replace it).`);
      console.table(await countDemoData(prisma, false));
      return;
    }
    const genStart = performance.now();
    const data = generateTianjinDemo({ seed: args.seed, elevators: args.elevators });
    const genMs = performance.now() - genStart;
    const loadStart = performance.now();
    await loadDemoData(prisma, data, { raw: db.raw });
    const loadMs = performance.now() - loadStart;
    const summary = await countDemoData(prisma, true);
    console.log(
      `seeded ${describeTarget(target)} (seed ${args.seed}): generated in ${(genMs / 1000).toFixed(1)} s, ` +
        `loaded in ${(loadMs / 1000).toFixed(1)} s, total ${((performance.now() - started) / 1000).toFixed(1)} s`,
    );
    console.table(summary);
  } finally {
    await db.close().catch(() => {});
  }
}

main().catch((error: unknown) => {
  console.error(`seed failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
