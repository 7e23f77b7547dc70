/**
 * `npm run bench:console`: the dispatcher console's map in Chromium with 100,000 elevators, against the
 * 3,000-elevator demo city measured in the same run as the baseline. For each: bytes and time to load the
 * elevator points and draw them, then frame times while the dispatcher drags the map around the dense
 * city centre at zoom 13 (requestAnimationFrame deltas in the page: a long frame is a visible stutter).
 * Writes bench-results/console-map.json. Needs Debian's chromium and a built console (npm run build:client).
 */
import fs from "node:fs";
import { parseArgs } from "node:util";
import type { Browser, Page } from "playwright-core";
import { loadConfig } from "../../server/platform/config.ts";
import { createLogger } from "../../server/platform/logger.ts";
import { startPlatform } from "../../server/app.ts";
import { chromiumPath, launchChromium, openConsole } from "../support/browser.ts";

const { values: args } = parseArgs({ options: { elevators: { type: "string", default: "100000" }, baseline: { type: "string", default: "3000" } } });

interface FrameStats {
  frames: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Frames over 50 ms: the eye sees those as a hitch. */
  longFrames: number;
}

interface RunResult {
  elevators: number;
  pointsBytes: number;
  /** Sign-in click to the elevator layer's first draw (points fetched, indexed, drawn). */
  loadToDrawnMs: number;
  drawnAtZoom13: number;
  panning: FrameStats;
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;

async function measure(browser: Browser, elevators: number): Promise<RunResult> {
  const config = loadConfig({
    PORT: "0",
    HOST: "127.0.0.1",
    MQTT_PORT: "0",
    DATABASE_URL: "pglite:memory",
    DEMO_DATA: "1",
    DEMO_ELEVATORS: String(elevators),
    SIMULATOR_DEVICES: "0",
    LOG_LEVEL: "warn",
    MAP_TILES: "none",
  });
  const platform = await startPlatform(config, createLogger("warn"));
  try {
    const baseUrl = `http://127.0.0.1:${platform.httpPort}`;
    let pointsBytes = 0;
    const page: Page = await openConsole(browser, baseUrl, "dispatcher", { width: 1920, height: 1080 });
    page.on("response", async (res) => {
      if (res.url().endsWith("/api/elevators/points")) pointsBytes = (await res.body()).length;
    });
    await page.reload();
    const reloaded = Date.now();
    await page.locator('[data-testid="elevator-hint"]').waitFor({ timeout: 120_000 });
    const loadToDrawnMs = Date.now() - reloaded;

    // Zoom 11 -> 13 over the centre, where a city's elevators are densest.
    for (let i = 0; i < 2; i++) {
      await page.click(".leaflet-control-zoom-in");
      await page.waitForTimeout(400);
    }
    const hint = (await page.locator('[data-testid="elevator-hint"]').textContent()) ?? "";
    const drawnAtZoom13 = Number((hint.match(/([\d,]+)\s*\/\s*[\d,]+/)?.[1] ?? "0").replace(/,/g, ""));

    // A string, not a function: tsx would wrap a function with helpers that do not exist in the page.
    await page.evaluate(`(() => {
      window.__frames = [];
      window.__stop = false;
      let last = performance.now();
      const tick = (now) => {
        window.__frames.push(now - last);
        last = now;
        if (!window.__stop) requestAnimationFrame(tick);
      };
      requestAnimationFrame(tick);
    })()`);
    const box = (await page.locator('[data-testid="map"]').boundingBox())!;
    const cx = box.x + box.width / 2;
    const cy = box.y + box.height / 2;
    // Eight drags of 400 px in 40 steps each, in four directions: each ends in a moveend that re-samples the layer.
    for (const [dx, dy] of [[400, 0], [-400, 0], [0, 300], [0, -300], [300, 300], [-300, -300], [-400, 200], [400, -200]] as const) {
      await page.mouse.move(cx, cy);
      await page.mouse.down();
      for (let s = 1; s <= 40; s++) await page.mouse.move(cx + (dx * s) / 40, cy + (dy * s) / 40);
      await page.mouse.up();
      await page.waitForTimeout(150);
    }
    const frames = (await page.evaluate("(() => { window.__stop = true; return window.__frames.slice(1); })()")) as number[];
    const sorted = [...frames].sort((a, b) => a - b);
    await page.close();
    return {
      elevators,
      pointsBytes,
      loadToDrawnMs,
      drawnAtZoom13,
      panning: {
        frames: frames.length,
        p50Ms: Math.round(percentile(sorted, 50) * 10) / 10,
        p95Ms: Math.round(percentile(sorted, 95) * 10) / 10,
        p99Ms: Math.round(percentile(sorted, 99) * 10) / 10,
        maxMs: Math.round((sorted.at(-1) ?? 0) * 10) / 10,
        longFrames: frames.filter((f) => f > 50).length,
      },
    };
  } finally {
    await platform.stop();
  }
}

if (!chromiumPath()) {
  console.error("console-map bench needs Debian's chromium (apt-get install -y chromium)");
  process.exit(1);
}
if (!fs.existsSync("dist/client/index.html")) {
  console.error("build the console first: npm run build:client");
  process.exit(1);
}
const browser = await launchChromium();
try {
  const baseline = await measure(browser, Number(args.baseline));
  const large = await measure(browser, Number(args.elevators));
  const ratio = (a: number, b: number) => (b > 0 ? Math.round((a / b) * 100) / 100 : null);
  const result = {
    measuredAt: new Date().toISOString(),
    machine: { cpus: (await import("node:os")).cpus().length },
    viewport: "1920x1080",
    baseline,
    large,
    ratios: {
      loadToDrawn: ratio(large.loadToDrawnMs, baseline.loadToDrawnMs),
      panningP95: ratio(large.panning.p95Ms, baseline.panning.p95Ms),
      panningP99: ratio(large.panning.p99Ms, baseline.panning.p99Ms),
    },
  };
  fs.mkdirSync("bench-results", { recursive: true });
  fs.writeFileSync("bench-results/console-map.json", JSON.stringify(result, null, 2) + "\n");
  console.log(JSON.stringify(result, null, 2));
} finally {
  await browser.close();
}
