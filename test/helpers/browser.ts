import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions } from 'playwright-core';

/** Debian's Chromium; playwright-core brings no browser of its own. */
export const CHROMIUM_PATH = '/usr/bin/chromium';

const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/**
 * Whether browser tests run. Under CI=true they always do (and fail when
 * Chromium is missing); elsewhere a missing Chromium skips them, with a warning.
 */
export function browserTestsEnabled(): boolean {
  if (existsSync(CHROMIUM_PATH) || process.env.CI === 'true') return true;
  console.warn(`${CHROMIUM_PATH} not found: skipping browser tests (they are required under CI=true)`);
  return false;
}

export type TestBrowser = {
  browser: Browser;
  /** A fresh context (own cookies and cache); `javaScriptEnabled: false` for the no-script tests. */
  context(opts?: BrowserContextOptions): Promise<BrowserContext>;
  close(): Promise<void>;
};

/**
 * Launches Chromium headless. `launch` gives the browser a fresh, throwaway
 * user-data-dir of its own, and every context is a clean, incognito-like profile.
 */
export async function launchBrowser(): Promise<TestBrowser> {
  if (!existsSync(CHROMIUM_PATH)) throw new Error(`${CHROMIUM_PATH} is required for browser tests`);
  const downloads = mkdtempSync(join(tmpdir(), 'porthole-downloads-'));
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: ARGS, downloadsPath: downloads });
  return {
    browser,
    context: (opts = {}) => browser.newContext({ acceptDownloads: true, ...opts }),
    close: async () => {
      await browser.close();
      rmSync(downloads, { recursive: true, force: true });
    },
  };
}

/** Where screenshots go (gitignored); created on first use. */
export function screenshotPath(name: string): string {
  const dir = join(process.cwd(), 'test', 'screenshots');
  mkdirSync(dir, { recursive: true });
  return join(dir, `${name}.png`);
}

/** The two widths every page kind is looked at: a phone and a laptop. */
export const VIEWPORTS = [
  { name: 'phone', width: 390, height: 844 },
  { name: 'wide', width: 1280, height: 800 },
] as const;

export { parseCsv } from './csv.js';
