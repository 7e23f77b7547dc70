import { afterAll, beforeAll } from "vitest";
import type { Browser, Page } from "playwright-core";
import { startTestPlatform, type TestPlatform } from "./platform.ts";
import { launchChromium, openConsole } from "./browser.ts";

export interface ConsoleSuite {
  readonly platform: TestPlatform;
  readonly browser: Browser;
  /** The console, signed in as the dispatcher. */
  readonly page: Page;
}

/**
 * For a describe block of browser tests: the real server on a fresh database (with `env`), Chromium and a
 * signed-in console page, started before the block's tests and closed after them.
 */
export function consoleSuite(env: Record<string, string> = {}): ConsoleSuite {
  const suite = {} as { platform: TestPlatform; browser: Browser; page: Page };
  beforeAll(async () => {
    suite.platform = await startTestPlatform(env);
    suite.browser = await launchChromium();
    suite.page = await openConsole(suite.browser, suite.platform.baseUrl);
  });
  afterAll(async () => {
    await suite.browser?.close();
    await suite.platform?.close();
  });
  return suite;
}
