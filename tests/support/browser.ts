import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/** Where Debian's `chromium` package puts the browser (`.ci/run` installs it when missing). */
const CANDIDATES = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].filter((p): p is string => Boolean(p));

/**
 * One headless Chromium for a test file, or null when none can start here — then the file's browser
 * tests are skipped, except under CI (`CI` set), where they fail: the forms must be tested in a real
 * browser before anything ships.
 */
export async function launchChromium(): Promise<Browser | null> {
  const executablePath = CANDIDATES.find((p) => existsSync(p));
  try {
    if (!executablePath) throw new Error(`no Chromium at ${CANDIDATES.join(', ')}`);
    // As root (CI containers) Chromium's sandbox cannot start; the pages are our own.
    return await chromium.launch({ executablePath, args: ['--no-sandbox', '--disable-dev-shm-usage', '--lang=ru'] });
  } catch (err) {
    if (process.env.CI) throw new Error(`CI: the browser tests need Chromium (apt-get install chromium): ${(err as Error).message}`);
    console.warn(`browser tests skipped: ${(err as Error).message}`);
    return null;
  }
}
