import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/** Where Debian's `chromium` package puts the browser (`.ci/run` installs it when missing). */
const CANDIDATES = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].filter((p): p is string => Boolean(p));

/**
 * One headless Chromium for a test file, or null when none can start here — then the file's browser
 * tests are skipped, except under CI (`CI` set), where they fail: the forms must be tested in a real
 * browser before anything ships.
 */
export async function launchChromium(): Promise<{ browser: Browser; problem: null } | { browser: null; problem: string }> {
  const executablePath = CANDIDATES.find((p) => existsSync(p));
  try {
    if (!executablePath) throw new Error(`no Chromium at ${CANDIDATES.join(', ')}`);
    // As root (CI containers) Chromium's sandbox cannot start; the pages are our own.
    const browser = await chromium.launch({ executablePath, args: ['--no-sandbox', '--disable-dev-shm-usage', '--lang=ru'], timeout: 60_000 });
    return { browser, problem: null };
  } catch (err) {
    const problem = (err as Error).message.split('\n')[0] ?? 'unknown';
    if (process.env.CI) throw new Error(`CI: the browser tests need Chromium (apt-get install chromium): ${problem}`);
    console.warn(`browser tests skipped: ${problem}`);
    return { browser: null, problem };
  }
}
