import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { BrowserSetupError, chooseBrowser, isCi, registryChromium, REGISTRY_PACKAGE, startBrowser } from '../support/chromium';

/**
 * The browser tests' own launcher (tests/support/browser.ts, chromium.ts): with Debian's Chromium
 * hidden the browser tests still get a browser, the npm registry's; it renders Kazakh from this
 * machine; what cannot work is one line saying what to do. CI runs the whole suite with
 * TEST_BROWSER=registry besides (`.ci/run`), so the forms' tests run in the registry's Chromium too.
 */
const packageDir = join(dirname(createRequire(import.meta.url).resolve(REGISTRY_PACKAGE)), '..');
const version = (JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as { version: string }).version;
/** `TEST_BROWSER=none` outside CI (a machine where no Chromium runs): the tests that start one are skipped. */
const noBrowser = !isCi() && chooseBrowser().kind === 'none';
const scratch = mkdtempSync(join(tmpdir(), 'pdp-browser-test-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** The page a Kazakh-speaking person is shown, served from 127.0.0.1. */
const KAZAKH = 'Өтініш қабылданды: ә ғ қ ң ө ұ ү һ і';
const glyphs = [...KAZAKH].length;

async function serve(html: string) {
  const server = createServer((_, res) => res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(html));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, close: () => server.close() };
}

async function oneLine(promise: Promise<unknown>): Promise<string> {
  const err = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(BrowserSetupError);
  const message = (err as Error).message;
  expect(message).not.toContain('\n');
  return message;
}

describe("the browser tests' Chromium", () => {
  it("Debian's chromium when installed; with it hidden (or TEST_BROWSER=registry) the registry's; none only when asked", () => {
    const debian = join(scratch, 'usr-bin-chromium');
    writeFileSync(debian, '');
    const hidden = [join(scratch, 'absent', 'chromium')];
    expect(chooseBrowser({}, [debian])).toEqual({ kind: 'executable', executablePath: debian, origin: "Debian's chromium" });
    expect(chooseBrowser({}, hidden)).toEqual({ kind: 'registry' });
    expect(chooseBrowser({ TEST_BROWSER: 'auto' }, hidden)).toEqual({ kind: 'registry' });
    expect(chooseBrowser({ TEST_BROWSER: 'registry' }, [debian])).toEqual({ kind: 'registry' });
    expect(chooseBrowser({ TEST_BROWSER: debian }, hidden)).toMatchObject({ kind: 'executable', executablePath: debian });
    expect(chooseBrowser({ TEST_BROWSER: 'none' }, [debian])).toEqual({ kind: 'none', reason: 'TEST_BROWSER=none' });
  });

  it.skipIf(noBrowser)(
    "with Debian's hidden, the registry's Chromium starts and renders a Kazakh page from 127.0.0.1, every letter in a font it carries",
    async () => {
      const started = await startBrowser({ ...process.env, TEST_BROWSER: 'registry' });
      if (!('browser' in started)) throw new Error(`no browser: ${started.skip}`);
      const { browser } = started;
      const page = await serve(
        `<!doctype html><html lang="kk"><body><p id="default">${KAZAKH}</p><p id="packaged" style="font-family: 'Open Sans'">${KAZAKH}</p></body></html>`,
      );
      try {
        // The package's Chromium (153 for @sparticuz/chromium 153.x), not a browser the machine has.
        expect(browser.version().split('.')[0]).toBe(version.split('.')[0]);
        const tab = await browser.newPage();
        const requests: string[] = [];
        tab.on('request', (r) => requests.push(r.url()));
        await tab.goto(page.url);
        expect(await tab.textContent('#default')).toBe(KAZAKH);
        const cdp = await tab.context().newCDPSession(tab);
        const { root } = await cdp.send('DOM.getDocument');
        await cdp.send('CSS.enable');
        const fontsOf = async (selector: string) => {
          const { nodeId } = await cdp.send('DOM.querySelector', { nodeId: root.nodeId, selector });
          return (await cdp.send('CSS.getPlatformFontsForNode', { nodeId })).fonts;
        };
        // The font the package ships has every letter (a missing one would be drawn from a fallback font):
        // a machine with no fonts of its own still shows the forms in Kazakh.
        expect(await fontsOf('#packaged')).toEqual([expect.objectContaining({ familyName: 'Open Sans', glyphCount: glyphs })]);
        expect((await fontsOf('#default')).reduce((n, f) => n + f.glyphCount, 0)).toBe(glyphs);
        expect(requests).toEqual([page.url]);
      } finally {
        page.close();
        await browser.close();
      }
    },
  );

  it('TEST_BROWSER=none skips outside CI, saying so, and fails under CI; a wrong TEST_BROWSER is one line', async () => {
    await expect(startBrowser({ TEST_BROWSER: 'none', CI: '' })).resolves.toEqual({ skip: 'TEST_BROWSER=none' });
    await expect(startBrowser({ TEST_BROWSER: 'none', CI: 'false' })).resolves.toEqual({ skip: 'TEST_BROWSER=none' });
    expect(await oneLine(startBrowser({ TEST_BROWSER: 'none', CI: 'true' }))).toBe(
      'CI: the browser tests never skip, and there is no browser: TEST_BROWSER=none',
    );
    expect(await oneLine(startBrowser({ TEST_BROWSER: 'firefox' }))).toBe(
      "TEST_BROWSER must be auto, registry, none or the absolute path of a Chromium, not 'firefox'",
    );
    expect(await oneLine(startBrowser({ TEST_BROWSER: '/nowhere/chromium' }))).toBe('TEST_BROWSER names /nowhere/chromium, which does not exist');
  });

  it('a truncated or missing file of the package is one line naming it and how to reinstall it, and nothing is left unpacked', async () => {
    const copy = join(scratch, 'package');
    mkdirSync(join(copy, 'bin'), { recursive: true });
    copyFileSync(join(packageDir, 'package.json'), join(copy, 'package.json'));
    for (const file of readdirSync(join(packageDir, 'bin'))) copyFileSync(join(packageDir, 'bin', file), join(copy, 'bin', file));
    // Cut short as an interrupted copy leaves it: the first megabyte of 67.
    const chromiumBr = join(copy, 'bin', 'chromium.br');
    writeFileSync(chromiumBr, readFileSync(chromiumBr).subarray(0, 1 << 20));
    const cacheDir = join(scratch, 'cache-truncated');
    expect(await oneLine(registryChromium({ binDir: join(copy, 'bin'), cacheDir }))).toBe(
      `${REGISTRY_PACKAGE} ${version} is damaged (bin/chromium.br: unexpected end of file): reinstall it: rm -rf node_modules && npm test`,
    );
    rmSync(chromiumBr);
    expect(await oneLine(registryChromium({ binDir: join(copy, 'bin'), cacheDir }))).toBe(
      `${REGISTRY_PACKAGE} ${version} is incomplete (bin/chromium.br is missing): reinstall it: rm -rf node_modules && npm test`,
    );
    expect(readdirSync(scratch).filter((f) => f.startsWith('cache-truncated'))).toEqual([]);
  });

  it.skipIf(noBrowser)(
    'an unpacked browser cut short is unpacked again; two processes unpacking at once both get one that starts',
    async () => {
      const cacheDir = join(scratch, 'cache-shared');
      mkdirSync(cacheDir);
      // A binary cut short under its marker (the disk filled, or someone copied the cache half-way).
      writeFileSync(join(cacheDir, '.unpacked.json'), JSON.stringify({ version, chromiumBytes: 209_022_176 }));
      writeFileSync(join(cacheDir, 'chromium'), '#!/bin/sh\n');
      const child = () =>
        new Promise<string>((resolve, reject) => {
          const code = `import { registryChromium } from ${JSON.stringify(new URL('../support/chromium.ts', import.meta.url).pathname)};
          const r = await registryChromium({ cacheDir: ${JSON.stringify(cacheDir)} }); console.log(r.executablePath);`;
          const proc = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '--eval', code], { stdio: ['ignore', 'pipe', 'pipe'] });
          let out = '';
          let err = '';
          proc.stdout.on('data', (d: Buffer) => (out += d));
          proc.stderr.on('data', (d: Buffer) => (err += d));
          proc.once('exit', (status) => (status === 0 ? resolve(out.trim()) : reject(new Error(`exit ${status}: ${err}`))));
        });
      const paths = await Promise.all([child(), child()]);
      expect(paths).toEqual([join(cacheDir, 'chromium'), join(cacheDir, 'chromium')]);
      expect(statSync(join(cacheDir, 'chromium')).size).toBeGreaterThan(100_000_000);
      // Each unpacked into a directory of its own: none is left, and the loser's copy is gone.
      expect(readdirSync(scratch).filter((f) => f.startsWith('cache-shared'))).toEqual(['cache-shared']);
      expect(existsSync(join(cacheDir, 'fonts.conf'))).toBe(true);
      // Each process ran it (`chromium --version`) before answering; in this one it is ready as it is.
      const again = await registryChromium({ cacheDir });
      expect(again.executablePath).toBe(join(cacheDir, 'chromium'));
    },
    120_000,
  );
});
