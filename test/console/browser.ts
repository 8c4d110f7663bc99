/**
 * A real browser for the console tests: Debian's chromium driven by playwright-core, headless, with
 * a fresh profile per launch (playwright's `launch` makes a temporary user-data dir and deletes it on
 * close) and nothing that reaches the network on its own.
 */
import fs from 'node:fs';
import { chromium, type Browser, type BrowserContext } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

export interface TestBrowser {
  browser: Browser;
  /** A new context (own cookies), viewport of a laptop screen. */
  context(): Promise<BrowserContext>;
  close(): Promise<void>;
}

export async function launchBrowser(): Promise<TestBrowser> {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (.ci/run does this)`);
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  return {
    browser,
    context: () => browser.newContext({ viewport: { width: 1280, height: 800 } }),
    close: async () => {
      await browser.close();
    },
  };
}
