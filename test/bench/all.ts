/**
 * `npm run bench [-- --quick]`: every benchmark in turn, each writing its JSON to bench-results/.
 * `--quick` goes to the benchmarks that have a short mode (IoT ingest and latency, overload); the
 * dispatch and console-map benchmarks are short already.
 */
import { spawnSync } from "node:child_process";

const quick = process.argv.includes("--quick");
const steps: [string, string[]][] = [
  ["tsx", ["test/bench/run.ts", ...(quick ? ["--quick"] : [])]],
  ["tsx", ["test/bench/dispatch.ts"]],
  ["npm", ["run", "bench:console"]],
  ["tsx", ["test/bench/overload.ts", ...(quick ? ["--quick"] : [])]],
];
for (const [command, args] of steps) {
  console.log(`\n=== bench: ${command} ${args.join(" ")}`);
  const result = spawnSync(command === "tsx" ? "npx" : command, command === "tsx" ? ["tsx", ...args] : args, { stdio: "inherit" });
  if (result.status !== 0) {
    console.error(`bench step failed: ${command} ${args.join(" ")} (exit ${result.status})`);
    process.exit(1);
  }
}
