/**
 * The platform as `npm start` and production run it, for the benchmarks that measure it whole: each
 * service and the gateway its own process (`node --import tsx …`), on the machine's PostgreSQL and
 * NATS, with databases and streams of the run's own label. One process per service lets the two
 * cores be shared as in production and lets each process's CPU be told apart (`/proc`) and profiled
 * (`--cpu-prof`); the bench process holds only the clients and its baselines.
 */
import { generateKeyPairSync } from 'node:crypto';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureDatabase } from '@pdp/shared';
import { eventually } from '@pdp/shared/testing';
import { BOOTSTRAP_DPO, type ProviderInfo } from '@pdp/tests/support/identity';
import { dropRun } from '@pdp/tests/support/system';
import { benchProvider } from './support';
import { SUBGRAPHS } from '../gateway/src/composition';
import { fillSecrets, processEnv } from '../scripts/platform-env';
import { freePort } from '../tests/support/throwaway';

export const root = join(import.meta.dirname, '..');
export const SERVER_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const NATS_URL = process.env.TEST_NATS_URL ?? 'nats://127.0.0.1:4222';
export type Subgraph = (typeof SUBGRAPHS)[number];

export interface Proc {
  name: string;
  child: ChildProcess;
  exited: Promise<number | null>;
}

/** Starts a process; the last 200 chunks of its output are written to `<log>/<name>.log` when it exits. */
export function start(name: string, command: string, args: string[], env: Record<string, string>, log: string): Proc {
  const out = `${log}/${name}.log`;
  const child = spawn(command, args, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const keep = (chunk: Buffer) => {
    lines.push(chunk.toString());
    if (lines.length > 200) lines.shift();
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      writeFileSync(out, lines.join(''));
      resolve(code);
    }),
  );
  return { name, child, exited };
}

export async function stop(proc: Proc): Promise<void> {
  if (proc.child.exitCode !== null || proc.child.signalCode !== null) return;
  proc.child.kill('SIGTERM');
  const done = await Promise.race([proc.exited.then(() => true), new Promise<false>((r) => setTimeout(() => r(false), 15_000))]);
  if (!done) proc.child.kill('SIGKILL');
}

export async function waitReady(url: string, what: string, proc: Proc): Promise<void> {
  let exited = false;
  void proc.exited.then(() => (exited = true));
  await eventually(
    async () => {
      if (exited) throw new Error(`${what} exited; see its log`);
      const res = await fetch(url).catch(() => null);
      await res?.body?.cancel();
      return res?.ok ?? false;
    },
    120_000,
    `${what} ready`,
  );
}

export { freePort };

export interface ProcessPlatform {
  label: string;
  secrets: Record<string, string>;
  /** Each subgraph's GraphQL URL and database URL. */
  urls: Record<Subgraph, string>;
  databaseUrls: Record<Subgraph, string>;
  gatewayUrl: string;
  /** The subgraphs' processes in SUBGRAPHS order, then the gateway's. */
  procs: Proc[];
  /** Where the processes' logs (and any extra configuration of the bench) go. */
  logDir: string;
  profileDir: string | null;
  /** Stops every process (which writes their profiles) and drops the run's databases and streams. */
  destroy(failed: boolean): Promise<void>;
  /** The OpenID provider its gateway trusts (this bench run's development provider). */
  provider: ProviderInfo;
}

export interface PlatformOptions {
  /** Names the run's databases and streams (and the profile directory). */
  label: string;
  /** `--cpu-prof` every process into `<profileRoot>/<label>/<name>.cpuprofile`. */
  profileRoot?: string | null;
  /** Extra environment of every subgraph, and of the gateway. */
  serviceEnv?: Record<string, string>;
  gatewayEnv?: Record<string, string>;
}

/**
 * Starts the four subgraphs and our gateway as their own processes, waits until each is ready.
 * Rate limits are set high enough never to refuse a bench's load: their cost is measured, not their refusals.
 */
export async function startProcessPlatform(opts: PlatformOptions): Promise<ProcessPlatform> {
  const { label } = opts;
  const logDir = mkdtempSync(join(tmpdir(), `pdp-${label}-`));
  const secrets = await fillSecrets();
  const provider = await benchProvider();
  const procs: Proc[] = [];
  const profileDir = opts.profileRoot ? join(opts.profileRoot, label) : null;
  if (profileDir) mkdirSync(profileDir, { recursive: true });
  const cpuProf = (name: string) => (profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`, `--cpu-prof-name=${name}.cpuprofile`] : []);
  const urls = {} as Record<Subgraph, string>;
  const databaseUrls = {} as Record<Subgraph, string>;
  const destroy = async (failed: boolean) => {
    for (const proc of [...procs].reverse()) await stop(proc);
    await dropRun(SERVER_URL, NATS_URL, label).catch((err: unknown) => console.error(`cleanup of ${label} failed:`, err));
    // A failed run keeps every process's log (the last lines of each) for a look.
    if (process.env.BENCH_KEEP_LOGS !== '1' && !failed) rmSync(logDir, { recursive: true, force: true });
    else console.error(`logs in ${logDir}`);
  };
  try {
    const common = { LOG_LEVEL: 'warn', EVENTS_PREFIX: label, DB_POOL_MAX: '8' };
    for (const name of SUBGRAPHS) {
      databaseUrls[name] = await ensureDatabase(SERVER_URL, `${label}_${name}`);
      const port = await freePort();
      urls[name] = `http://127.0.0.1:${port}/graphql`;
      const audit: Record<string, string> =
        name === 'audit'
          ? { AUDIT_CHECKPOINT_KEYS: JSON.stringify([{ keyId: 'bench-1', key: generateKeyPairSync('ed25519').privateKey.export({ format: 'jwk' }) }]) }
          : name === 'appeals'
            ? { BOOTSTRAP_DPO }
            : {};
      const env = processEnv(name, secrets, () => NATS_URL, { ...common, ...audit, ...opts.serviceEnv, PORT: String(port), DATABASE_URL: databaseUrls[name] });
      procs.push(start(name, process.execPath, [...cpuProf(name), '--import', 'tsx', `services/${name}/src/index.ts`], env, logDir));
    }
    for (const [i, name] of SUBGRAPHS.entries()) await waitReady(urls[name].replace('/graphql', '/readyz'), name, procs[i]!);

    const gatewayPort = await freePort();
    const gateway = start(
      'gateway',
      process.execPath,
      [...cpuProf('gateway'), '--import', 'tsx', 'gateway/src/index.ts'],
      processEnv('gateway', secrets, () => NATS_URL, {
        ...common,
        OIDC_ISSUER: provider.issuer,
        OIDC_AUDIENCE: provider.audience,
        PORT: String(gatewayPort),
        SUBJECTS_URL: urls.subjects,
        APPEALS_URL: urls.appeals,
        CONSENTS_URL: urls.consents,
        AUDIT_URL: urls.audit,
        PUBLIC_RATE_LIMIT_PER_MINUTE: '100000000',
        ACTOR_RATE_LIMIT_PER_MINUTE: '100000000',
        ...opts.gatewayEnv,
      }),
      logDir,
    );
    procs.push(gateway);
    const gatewayUrl = `http://127.0.0.1:${gatewayPort}/graphql`;
    await waitReady(gatewayUrl.replace('/graphql', '/readyz?strict'), 'our gateway', gateway);
    return { label, secrets, urls, databaseUrls, gatewayUrl, procs, logDir, profileDir, destroy, provider };
  } catch (err) {
    await destroy(true);
    throw err;
  }
}

/** CPU time (ms) of a process so far, from /proc (user + system); 0 where /proc is not there. */
function cpuMs(pid: number | undefined): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return 0;
  }
}

function pids(): number[] {
  try {
    return readdirSync('/proc')
      .filter((d) => /^\d+$/.test(d))
      .map(Number);
  } catch {
    return [];
  }
}

function commOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
}

/** The machine's busy CPU time (ms) so far, every core. */
function machineCpuMs(): number {
  try {
    const [user, nice, system, , , irq, softirq, steal] = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    return ((user! + nice! + system! + irq! + softirq! + steal!) * 1000) / 100;
  } catch {
    return 0;
  }
}

/** CPU ms by process name: ours, this one (`bench`), PostgreSQL, NATS and the whole machine. */
export type CpuSplit = Record<string, number>;

/**
 * CPU so far of each of `procs`, this process (clients, baselines), PostgreSQL (every backend, ours
 * and anyone else's; a backend that ended between two snapshots is missed) and NATS, and the machine.
 */
export function cpuSnapshot(procs: Proc[]): CpuSplit {
  const snap: CpuSplit = {};
  for (const p of procs) snap[p.name] = cpuMs(p.child.pid);
  const own = process.cpuUsage();
  snap.bench = (own.user + own.system) / 1000;
  snap.postgres = 0;
  snap.nats = 0;
  for (const pid of pids()) {
    const comm = commOf(pid);
    if (comm === 'postgres') snap.postgres += cpuMs(pid);
    else if (comm === 'nats-server') snap.nats += cpuMs(pid);
  }
  snap.machine = machineCpuMs();
  return snap;
}

/** Adds `after - before` into `into`. */
export function addCpu(into: CpuSplit, before: CpuSplit, after: CpuSplit): CpuSplit {
  for (const key of Object.keys(after)) into[key] = (into[key] ?? 0) + after[key]! - (before[key] ?? 0);
  return into;
}

/** CPU ms per request of each process, "others" being whatever else the machine ran meanwhile. */
export function perRequest(split: CpuSplit, n: number): CpuSplit {
  const named = Object.entries(split).filter(([k]) => k !== 'machine');
  const others = (split.machine ?? 0) - named.reduce((sum, [, v]) => sum + v, 0);
  return Object.fromEntries([...named, ['others', others], ['machine', split.machine ?? 0]].map(([k, v]) => [k, Number(((v as number) / n).toFixed(2))]));
}

/** CLOCK_MONOTONIC in µs: the clock V8's CPU profiles are stamped with, the same in every process. */
export const monotonicMicros = () => Number(process.hrtime.bigint() / 1000n);

export interface CpuProfile {
  nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }>;
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

export function readProfile(dir: string, name: string): CpuProfile {
  return JSON.parse(readFileSync(join(dir, `${name}.cpuprofile`), 'utf8')) as CpuProfile;
}

/**
 * Where a process's time went while it was measured: the profile's samples inside `windows` only
 * (not start-up, not other targets' chunks), by package and by function (self time).
 */
export function summariseProfile(profile: CpuProfile, windows: Array<[number, number]>, top = 30) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const where = (url: string): string => {
    if (!url) return '(native or V8)';
    const pnpm = /node_modules\/\.pnpm\/[^/]+\/node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
    if (pnpm) return pnpm[1]!;
    const workspace = /\/(gateway|packages\/shared|services\/[^/]+)\/src\//.exec(url);
    if (workspace) return workspace[1]!;
    if (url.startsWith('node:')) return url.split('/').slice(0, 2).join('/');
    return url
      .replace(/^file:\/\//, '')
      .split('/')
      .slice(-2)
      .join('/');
  };
  const packages = new Map<string, number>();
  const functions = new Map<string, number>();
  let t = profile.startTime;
  let total = 0;
  for (let i = 0; i < profile.samples.length; i += 1) {
    t += profile.timeDeltas[i]!;
    if (!windows.some(([a, b]) => t >= a && t <= b)) continue;
    const dt = profile.timeDeltas[i + 1] ?? 0;
    const node = byId.get(profile.samples[i]!)!;
    const { functionName, url, lineNumber } = node.callFrame;
    const special = functionName.startsWith('(') ? functionName : null;
    const pkg = special ?? where(url);
    packages.set(pkg, (packages.get(pkg) ?? 0) + dt);
    const fn = special ?? `${functionName || '(anonymous)'} ${where(url)}:${lineNumber + 1}`;
    functions.set(fn, (functions.get(fn) ?? 0) + dt);
    total += dt;
  }
  const share = (m: Map<string, number>) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, us]) => ({ name, ms: Math.round(us / 1000), percent: Number(((100 * us) / total).toFixed(1)) }));
  return { windowMs: Math.round(total / 1000), byPackage: share(packages), byFunction: share(functions) };
}
