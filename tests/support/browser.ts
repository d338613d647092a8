import type { Browser } from 'playwright-core';
import { startBrowser } from './chromium';

/**
 * The one way a test gets a browser: a headless Chromium driven by playwright-core, one per test
 * file (close it in `afterAll`). Debian's `chromium` when it is installed, otherwise the npm
 * registry's (`@sparticuz/chromium`, installed by `npm test` like everything else); `TEST_BROWSER`
 * chooses (`registry`, `none` or a path; tests/support/chromium.ts, docs/operations.md "Tests").
 *
 * Returns null only outside CI with `TEST_BROWSER=none` (or on a platform the registry's build does
 * not run on, with no Chromium installed): it then adds a skipped test to the file that says why, so
 * write `describe.skipIf(!browser)(…)`. Under CI it never returns null. Anything else that goes wrong
 * (a damaged package, a browser that does not start) throws one line saying what to do.
 *
 *   const browser = await launchBrowser();
 *   afterAll(() => browser?.close());
 *   describe.skipIf(!browser)('…', () => { … browser!.newContext() … });
 */
export async function launchBrowser(): Promise<Browser | null> {
  const started = await startBrowser();
  if ('browser' in started) return started.browser;
  console.warn(`browser tests skipped: ${started.skip}`);
  if (process.env.VITEST) {
    const { it } = await import('vitest');
    it.skip(`needs a browser, and there is none: ${started.skip}`, () => undefined);
  }
  return null;
}
