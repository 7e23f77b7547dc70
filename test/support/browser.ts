import fs from "node:fs";
import path from "node:path";
import { chromium, type Browser } from "playwright-core";
import { skipReason } from "./skip.ts";

const CANDIDATES = [process.env.CHROMIUM_PATH, "/usr/bin/chromium", "/usr/bin/chromium-browser"];

/** Flags that work on these machines (STACK.md): no sandbox as root, no background network. */
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
