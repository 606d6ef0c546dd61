// Debian's Chromium driven by playwright-core, for the console's end-to-end tests. Never a browser that a tool
// downloads: the machine and CI have no such access, and .ci/run installs Debian's package.
import { existsSync, mkdirSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_BIN ?? '/usr/bin/chromium';

/** Skipped with a loud message on a developer's machine without Chromium; failed on CI (CI=true). */
export function requireChromium(what: string): boolean {
  if (existsSync(CHROMIUM)) return true;
  const msg = `${CHROMIUM} not found: ${what} needs Debian's chromium (apt-get install chromium)`;
  if (process.env.CI === 'true') throw new Error(msg);
  console.warn(`\n${'!'.repeat(100)}\n!! SKIPPED: ${msg}\n${'!'.repeat(100)}\n`);
  return false;
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic'],
  });
}

/** Screenshots and other artifacts a person looks at after a run (gitignored). */
export function artifactsDir(): string {
  const dir = new URL('../../test-artifacts/', import.meta.url).pathname;
  mkdirSync(dir, { recursive: true });
  return dir;
}
