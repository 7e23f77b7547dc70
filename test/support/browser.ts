import fs from "node:fs";
import path from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { skipReason } from "./skip.ts";

const CANDIDATES = [process.env.CHROMIUM_PATH, "/usr/bin/chromium", "/usr/bin/chromium-browser"];

/** Flags that work on these machines: no sandbox as root, no background network. */
const LAUNCH_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export function chromiumPath(): string | null {
  return CANDIDATES.find((candidate): candidate is string => !!candidate && fs.existsSync(candidate)) ?? null;
}

/** Why browser tests cannot run here, or null. Throws instead under TEST_NO_SKIP=1. */
export function browserSkipReason(): string | null {
  if (!chromiumPath()) return skipReason("Debian's chromium is not installed (apt-get install -y chromium)");
  if (!fs.existsSync(path.resolve("dist/client/index.html"))) {
    return skipReason("the console is not built (npm run build:client); npm test builds it first");
  }
  return null;
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: chromiumPath()!, args: LAUNCH_ARGS });
}

export const SCREENSHOT_DIR = path.resolve("test/screenshots");

export function screenshotPath(name: string): string {
  fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
  return path.join(SCREENSHOT_DIR, `${name}.png`);
}

/**
 * A page of the console signed in as `username` (demo password), connected, with requests to anything
 * but the test server refused: no tile server is reachable in tests, fail fast instead of waiting.
 */
export async function openConsole(browser: Browser, baseUrl: string, username = "dispatcher", viewport = { width: 1600, height: 900 }): Promise<Page> {
  const page = await browser.newPage({ viewport });
  await page.route(/^https?:\/\/(?!127\.0\.0\.1)/, (route) => route.abort());
  await page.goto(baseUrl);
  await page.locator('[data-testid="login-form"]').waitFor({ state: "visible", timeout: 10_000 });
  await page.fill('[data-testid="login-username"]', username);
  await page.fill('[data-testid="login-password"]', "demo96333");
  await page.click('[data-testid="login-submit"]');
  await page.locator('[data-testid="connection-status"][data-state="connected"]').waitFor({ timeout: 15_000 });
  return page;
}

/** Supervisors and company admins land on the supervision screen: the operations view is one click away. */
export async function showOperations(page: Page): Promise<void> {
  const toggle = page.locator('[data-testid="toggle-supervision"]');
  if ((await toggle.count()) && (await toggle.getAttribute("data-view")) === "supervision") {
    await toggle.click();
    await page.locator('[data-testid="toggle-supervision"][data-view="operations"]').waitFor({ timeout: 5000 });
  }
}
