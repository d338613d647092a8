/**
 * bench/read (issue 11, item 1): a DPO reading `subject(id)` with its 3 appeals (contact decrypted)
 * and 3 consents through the gateway — authentication, the gate, rate limits and access records on —
 * next to, in the same run:
 *  (a) Hive Gateway (`@graphql-hive/gateway`, its CLI) in front of the same running subgraphs and the
 *      same supergraph SDL, forwarding the actor header the bench client signs itself (what the
 *      gateway would have signed: the same secret, actor and lifetime, re-signed every 30 s);
 *  (b) the same rows read with plain SQL from the three databases (and the contact decrypted).
 * And a one-subgraph query, `consentTemplate` (PUBLIC, no PD), through both gateways and straight at
 * the consents subgraph.
 *
 * The platform runs as `npm start` runs it, as production would: each service and each gateway its
 * own process (`node --import tsx …`), this process only the clients and the SQL. In one process the
 * gateway would share a thread with four subgraphs and the load generator, and a gateway's own cost
 * could not be told apart; separate processes also let `READ_PROFILE=1` write a CPU profile of our
 * gateway alone (`--cpu-prof`, into bench/results/read-profile/).
 *
 * Both gateways see the same machine: after a warm-up of each, the targets run in alternating chunks
 * (A B C, C B A, …) and each target's latencies are pooled over its chunks. Subjects are seeded
 * through our gateway (`submitAppeal`, three forms per IIN), as people would; the bench waits until
 * every appeal and consent is linked to its subject.
 *
 * `npm run bench -- read [requests per target] [concurrency]`. Results in bench/results/read.json.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureDatabase, FieldCipher, signActorToken, streamName, type Actor, type RequestMeta } from '@pdp/shared';
import { eventually, makeIin } from '@pdp/shared/testing';
import { graphql, tokenFor } from '@pdp/tests/support/client';
import { form, SUBMIT } from '@pdp/tests/support/intake';
import { dropRun } from '@pdp/tests/support/system';
import { connect } from 'nats';
import pg from 'pg';
import { composeSupergraph, SUBGRAPHS } from '../gateway/src/composition';
import { fillSecrets, processEnv } from '../scripts/platform-env';
import { runConcurrent, stats, type Stats } from './support';

const root = join(import.meta.dirname, '..');
const SERVER_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const NATS_URL = process.env.TEST_NATS_URL ?? 'nats://127.0.0.1:4222';
const SUBJECTS = Number(process.env.READ_SUBJECTS ?? 100);
const ROUNDS = 4;
/** Connections per database for the SQL baseline (PostgreSQL's 100 are shared with the services and with other runs). */
const SQL_POOL = 6;

export const SUBJECT_READ = `query Read($id: ID!) {
  subject(id: $id) {
    id status categories
    appeals { id reference kind status deadline submittedAt contact { phone email description } }
    consents { id templateCode templateVersion status givenAt channel }
  }
}`;
export const TEMPLATE_READ = `query Template { consentTemplate(code: "ANNEX2_APPLICANT", locale: RU) { code version locale title body effectiveFrom purpose } }`;

type Target = { name: string; run: (i: number) => Promise<void> };

interface Proc {
  name: string;
  child: ChildProcess;
  exited: Promise<number | null>;
}

function start(name: string, command: string, args: string[], env: Record<string, string>, log: string): Proc {
  const out = `${log}/${name}.log`;
  const child = spawn(command, args, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const keep = (chunk: Buffer) => {
    lines.push(chunk.toString());
    if (lines.length > 200) lines.shift();
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => {
    writeFileSync(out, lines.join(''));
    resolve(code);
  }));
  return { name, child, exited };
}

async function stop(proc: Proc): Promise<void> {
  if (proc.child.exitCode !== null || proc.child.signalCode !== null) return;
  proc.child.kill('SIGTERM');
  const done = await Promise.race([proc.exited.then(() => true), new Promise<false>((r) => setTimeout(() => r(false), 15_000))]);
  if (!done) proc.child.kill('SIGKILL');
}

async function waitReady(url: string, what: string, proc: Proc): Promise<void> {
  let exited = false;
  void proc.exited.then(() => (exited = true));
  await eventually(async () => {
    if (exited) throw new Error(`${what} exited; see its log`);
    const res = await fetch(url).catch(() => null);
    await res?.body?.cancel();
    return res?.ok ?? false;
  }, 120_000, `${what} ready`);
}

async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve, reject) => {
    const srv = createServer().once('error', reject).listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** The actor header a client of Hive Gateway (or of a subgraph directly) sends: signed by us, re-signed every 30 s. */
function actorHeader(secret: string, actor: Actor) {
  let token = '';
  let signedAt = 0;
  return async (): Promise<string> => {
    if (Date.now() - signedAt > 30_000) {
      const meta: RequestMeta = { requestId: crypto.randomUUID(), locale: 'RU', ip: '127.0.0.1', userAgent: 'bench-read' };
      token = await signActorToken(secret, actor, meta);
      signedAt = Date.now();
    }
    return token;
  };
}

async function post(url: string, query: string, variables: Record<string, unknown>, headers: Record<string, string>) {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ query, variables }) });
  const body = (await res.json()) as { data?: any; errors?: unknown[] };
  if (res.status !== 200 || body.errors) throw new Error(`${url}: ${res.status} ${JSON.stringify(body.errors ?? body).slice(0, 300)}`);
  return body.data;
}

function checkSubject(data: any): void {
  const s = data?.subject;
  if (!s || s.appeals.length !== 3 || s.consents.length !== 3 || s.appeals.some((a: any) => !a.contact?.phone)) {
    throw new Error(`unexpected subject read: ${JSON.stringify(data).slice(0, 300)}`);
  }
}

/** Runs each target in chunks of `perChunk`, alternating the order each round; pools each target's latencies. */
async function alternate(
  targets: Target[],
  perChunk: number,
  concurrency: number,
  windows: Record<string, Array<[number, number]>> = {},
  records?: () => Promise<number>,
): Promise<Record<string, Stats & { chunks: number[]; cpuMsPerRequest: CpuSplit; accessRecordsPerRequest?: number }>> {
  const cpu = new Map<string, CpuSplit>();
  const recorded = new Map<string, number>();
  const pooled = new Map<string, { latencies: number[]; seconds: number; chunks: number[] }>(targets.map((t) => [t.name, { latencies: [], seconds: 0, chunks: [] }]));
  const only = process.env.READ_TARGETS?.split(',');
  for (let round = 0; round < ROUNDS; round += 1) {
    const order = round % 2 === 0 ? targets : [...targets].reverse();
    for (const target of order) {
      if (only && !only.includes(target.name)) continue;
      const offset = round * perChunk;
      const from = monotonicMicros();
      const recordsBefore = await records?.();
      const before = cpuSnapshot();
      const r = await runConcurrent(perChunk, concurrency, (i) => target.run(offset + i));
      const after = cpuSnapshot();
      if (records) recorded.set(target.name, (recorded.get(target.name) ?? 0) + (await records()) - recordsBefore!);
      const split = cpu.get(target.name) ?? {};
      for (const key of Object.keys(after)) split[key] = (split[key] ?? 0) + after[key]! - before[key]!;
      cpu.set(target.name, split);
      (windows[target.name] ??= []).push([from, monotonicMicros()]);
      const p = pooled.get(target.name)!;
      p.latencies.push(...r.latencies);
      p.seconds += r.seconds;
      p.chunks.push(Number((perChunk / r.seconds).toFixed(1)));
    }
  }
  const perRequest = (name: string, n: number): CpuSplit => {
    const split = cpu.get(name) ?? {};
    const named = Object.entries(split).filter(([k]) => k !== 'machine');
    const others = (split.machine ?? 0) - named.reduce((sum, [, v]) => sum + v, 0);
    return Object.fromEntries([...named, ['others', others], ['machine', split.machine ?? 0]].map(([k, v]) => [k, Number(((v as number) / n).toFixed(2))]));
  };
  return Object.fromEntries(
    [...pooled]
      .filter(([, p]) => p.chunks.length > 0)
      .map(([name, p]) => [
        name,
        {
          ...stats(p.latencies, p.seconds),
          chunks: p.chunks,
          cpuMsPerRequest: perRequest(name, p.latencies.length),
          ...(recorded.has(name) ? { accessRecordsPerRequest: Number((recorded.get(name)! / p.latencies.length).toFixed(3)) } : {}),
        },
      ]),
  );
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
    return readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map(Number);
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

/**
 * Per target: CPU ms per request of each of our processes, this one (clients, SQL), PostgreSQL and
 * NATS (all their processes: a backend that ended within a chunk is missed, other runs' are counted)
 * and the rest of the machine. The machine is shared: "others" is whatever else ran meanwhile.
 */
type CpuSplit = Record<string, number>;
let cpuProcs: Proc[] = [];
function cpuSnapshot(): Record<string, number> {
  const snap: Record<string, number> = {};
  for (const p of cpuProcs) snap[p.name] = cpuMs(p.child.pid);
  const own = process.cpuUsage();
  snap.bench = (own.user + own.system) / 1000;
  // The servers every target shares: PostgreSQL (every backend, ours and anyone else's) and NATS.
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

/** CLOCK_MONOTONIC in µs: the clock V8's CPU profiles are stamped with, the same in every process. */
const monotonicMicros = () => Number(process.hrtime.bigint() / 1000n);

interface CpuProfile {
  nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }>;
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

/**
 * Where our gateway's time went while it was measured: the profile's samples inside our chunks'
 * windows only (not start-up, not the other targets' chunks), by package and by function (self time).
 */
export function summariseProfile(profile: CpuProfile, windows: Array<[number, number]>, top = 30) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const where = (url: string): string => {
    if (!url) return '(native or V8)';
    const pnpm = /node_modules\/\.pnpm\/[^/]+\/node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
    if (pnpm) return pnpm[1]!;
    const workspace = /\/work\/main\/([^/]+\/[^/]+)\//.exec(url) ?? /\/(gateway|packages\/shared|services\/[^/]+)\/src\//.exec(url);
    if (workspace) return workspace[1]!;
    if (url.startsWith('node:')) return url.split('/').slice(0, 2).join('/');
    return url.replace(/^file:\/\//, '').split('/').slice(-2).join('/');
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
    [...m].sort((a, b) => b[1] - a[1]).slice(0, top).map(([name, us]) => ({ name, ms: Math.round(us / 1000), percent: Number(((100 * us) / total).toFixed(1)) }));
  return { windowMs: Math.round(total / 1000), byPackage: share(packages), byFunction: share(functions) };
}

const ratio = (a: Stats | undefined, b: Stats | undefined) => (a && b ? Number((a.perSecond / b.perSecond).toFixed(3)) : null);

export async function readBench(count: number, concurrency: number) {
  const label = `bench_read_${Date.now().toString(36)}`;
  const log = mkdtempSync(join(tmpdir(), 'pdp-read-'));
  const secrets = await fillSecrets();
  const procs: Proc[] = [];
  const pools: pg.Pool[] = [];
  const profile = process.env.READ_PROFILE === '1';
  let failed = false;
  const profileDir = join(import.meta.dirname, 'results', 'read-profile', label);
  const cpuProf = (name: string) => (profile ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`, `--cpu-prof-name=${name}.cpuprofile`] : []);
  if (profile) mkdirSync(profileDir, { recursive: true });
  try {
    // The subgraphs, each its own process, as `npm start` runs them.
    const urls = {} as Record<(typeof SUBGRAPHS)[number], string>;
    const databaseUrls = {} as Record<(typeof SUBGRAPHS)[number], string>;
    const common = { AUTH_JWT_SECRET: secrets.AUTH_JWT_SECRET!, LOG_LEVEL: 'warn', EVENTS_PREFIX: label, DB_POOL_MAX: '8' };
    for (const name of SUBGRAPHS) {
      databaseUrls[name] = await ensureDatabase(SERVER_URL, `${label}_${name}`);
      const port = await freePort();
      urls[name] = `http://127.0.0.1:${port}/graphql`;
      const audit: Record<string, string> = name === 'audit' ? { AUDIT_CHECKPOINT_KEYS: JSON.stringify([{ keyId: 'bench-1', key: (await import('node:crypto')).generateKeyPairSync('ed25519').privateKey.export({ format: 'jwk' }) }]) } : {};
      const env = processEnv(name, secrets, () => NATS_URL, { ...common, ...audit, PORT: String(port), DATABASE_URL: databaseUrls[name] });
      procs.push(start(name, process.execPath, [...cpuProf(name), '--import', 'tsx', `services/${name}/src/index.ts`], env, log));
    }
    for (const [i, name] of SUBGRAPHS.entries()) await waitReady(urls[name].replace('/graphql', '/readyz'), name, procs[i]!);

    // Our gateway. Rate limits on, set high enough never to refuse this load (their cost is measured, not their refusals).
    const ourPort = await freePort();
    const ours = start(
      'gateway',
      process.execPath,
      [...cpuProf('gateway'), '--import', 'tsx', 'gateway/src/index.ts'],
      processEnv('gateway', secrets, () => NATS_URL, {
        ...common,
        PORT: String(ourPort),
        SUBJECTS_URL: urls.subjects,
        APPEALS_URL: urls.appeals,
        CONSENTS_URL: urls.consents,
        AUDIT_URL: urls.audit,
        PUBLIC_RATE_LIMIT_PER_MINUTE: '100000000',
        ACTOR_RATE_LIMIT_PER_MINUTE: '100000000',
      }),
      log,
    );
    procs.push(ours);
    const ourUrl = `http://127.0.0.1:${ourPort}/graphql`;

    // Hive Gateway: the same supergraph SDL our gateway composes, the actor header passed through.
    const hivePort = await freePort();
    writeFileSync(join(log, 'supergraph.graphql'), composeSupergraph(urls));
    writeFileSync(
      join(log, 'gateway.config.mjs'),
      `export const gatewayConfig = {
  logging: 'error',
  propagateHeaders: { fromClientToSubgraphs: ({ request }) => ({ 'x-pdp-actor': request.headers.get('x-pdp-actor') }) },
};\n`,
    );
    const hiveBin = join(root, 'bench', 'node_modules', '@graphql-hive', 'gateway', 'dist', 'bin.js');
    const hive = start('hive', process.execPath, [hiveBin, 'supergraph', join(log, 'supergraph.graphql'), '--host', '127.0.0.1', '--port', String(hivePort), '--config-path', join(log, 'gateway.config.mjs'), '--disable-websockets'], { NODE_ENV: 'production' }, log);
    procs.push(hive);
    const hiveUrl = `http://127.0.0.1:${hivePort}/graphql`;
    await waitReady(ourUrl.replace('/graphql', '/readyz'), 'our gateway', ours);
    await waitReady(hiveUrl.replace('/graphql', '/healthcheck'), 'Hive Gateway', hive);

    // Seed: three forms per person through our gateway, then wait until subjects, appeals and consents agree.
    const seedStarted = performance.now();
    await runConcurrent(SUBJECTS * 3, 8, async (i) => {
      const res = await graphql(ourUrl, SUBMIT, { input: form({ iin: makeIin('1985-03-03', Math.floor(i / 3) % 2 ? 'M' : 'F', Math.floor(i / 3) * 7 + 1) }) });
      if (res.errors) throw new Error(JSON.stringify(res.errors));
    });
    const sqlPool = (name: (typeof SUBGRAPHS)[number]) => {
      const pool = new pg.Pool({ connectionString: databaseUrls[name], max: SQL_POOL, application_name: 'bench-read' });
      pool.on('error', () => undefined);
      pools.push(pool);
      return pool;
    };
    const db = { subjects: sqlPool('subjects'), appeals: sqlPool('appeals'), consents: sqlPool('consents') };
    await eventually(async () => {
      const a = await db.appeals.query('select count(*)::int n from appeals where subject_id is not null');
      const c = await db.consents.query('select count(*)::int n from consents where subject_id is not null');
      return a.rows[0].n === SUBJECTS * 3 && c.rows[0].n === SUBJECTS * 3;
    }, 300_000, 'seeded appeals and consents linked to their subjects');
    const ids = (await db.subjects.query<{ id: string }>('select id from subjects order by id')).rows.map((r) => r.id);
    if (ids.length !== SUBJECTS) throw new Error(`expected ${SUBJECTS} subjects, found ${ids.length}`);
    const seedSeconds = (performance.now() - seedStarted) / 1000;

    // Clients: 16 DPOs, each with their own token (a cached verification must not make one token do everyone's work).
    const dpoTokens = await Promise.all(Array.from({ length: concurrency }, (_, i) => tokenFor(secrets.AUTH_JWT_SECRET!, ['DPO'], { sub: `dpo-${i + 1}`, expiresIn: '2h' })));
    const dpoHeader = Array.from({ length: concurrency }, (_, i) => actorHeader(secrets.INTERNAL_JWT_SECRET!, { id: `dpo-${i + 1}`, roles: ['DPO'], creditorId: null }));
    // Each client its own signed header, as each request through a gateway has its own token (request id).
    const publicHeaders = Array.from({ length: concurrency }, () => actorHeader(secrets.INTERNAL_JWT_SECRET!, { id: 'anonymous', roles: ['PUBLIC'], creditorId: null }));
    const sharedPublicHeader = publicHeaders[0]!;
    const cipher = new FieldCipher(secrets.PD_ENCRYPTION_KEYS!);

    const subjectTargets: Target[] = [
      { name: 'ours', run: async (i) => checkSubject(await post(ourUrl, SUBJECT_READ, { id: ids[i % ids.length] }, { authorization: `Bearer ${dpoTokens[i % concurrency]}` })) },
      { name: 'hive', run: async (i) => checkSubject(await post(hiveUrl, SUBJECT_READ, { id: ids[i % ids.length] }, { 'x-pdp-actor': await dpoHeader[i % concurrency]!() })) },
      {
        name: 'sql',
        run: async (i) => {
          const id = ids[i % ids.length]!;
          const [s, a, c] = await Promise.all([
            db.subjects.query('select s.id, s.status, array(select category from subject_categories where subject_id = s.id) categories from subjects s where s.id = $1', [id]),
            db.appeals.query('select id, reference, kind, status, deadline, submitted_at, phone_enc, email_enc, description_enc from appeals where subject_id = $1 and depersonalized_at is null order by submitted_at', [id]),
            db.consents.query('select id, template_code, template_version, withdrawn_at, given_at, channel from consents where subject_id = $1 order by given_at', [id]),
          ]);
          const appeals = a.rows.map((r) => ({ ...r, contact: { phone: r.phone_enc && cipher.decrypt(r.phone_enc), email: r.email_enc && cipher.decrypt(r.email_enc), description: cipher.decrypt(r.description_enc) } }));
          checkSubject({ subject: { ...s.rows[0], appeals, consents: c.rows } });
        },
      },
    ];
    // The outside measurement's setup: one DPO reading one subject, every client with the same token
    // or pre-signed header. Hive then merges the identical reads in flight into one subgraph call each
    // (and the subgraphs record one read for several answers); our gateway signs one token per request
    // and cannot. Measured beside the rest to show what the earlier 417 vs 73 req/s compared.
    const oneSubject = ids[0]!;
    const sameTargets: Target[] = [
      { name: 'oursSameSubjectSameToken', run: async () => checkSubject(await post(ourUrl, SUBJECT_READ, { id: oneSubject }, { authorization: `Bearer ${dpoTokens[0]}` })) },
      { name: 'hiveSameSubjectSharedHeader', run: async () => checkSubject(await post(hiveUrl, SUBJECT_READ, { id: oneSubject }, { 'x-pdp-actor': await dpoHeader[0]!() })) },
    ];
    const templateTargets: Target[] = [
      { name: 'ours', run: async () => void (await post(ourUrl, TEMPLATE_READ, {}, {})) },
      { name: 'hive', run: async (i) => void (await post(hiveUrl, TEMPLATE_READ, {}, { 'x-pdp-actor': await publicHeaders[i % concurrency]!() })) },
      { name: 'subgraph', run: async (i) => void (await post(urls.consents, TEMPLATE_READ, {}, { 'x-pdp-actor': await publicHeaders[i % concurrency]!() })) },
      // Every client with the same header: Hive then merges identical queries in flight into one
      // subgraph call (executor-http's deduplicateInflightRequests, on by default). Our gateway cannot:
      // each request carries its own actor token, whose request id correlates what it leaves recorded.
      { name: 'hiveSharedHeader', run: async () => void (await post(hiveUrl, TEMPLATE_READ, {}, { 'x-pdp-actor': await sharedPublicHeader() })) },
    ];

    // Warm-up: connections, JIT, plan and document caches, in each target.
    for (const t of [...subjectTargets, ...sameTargets, ...templateTargets]) await runConcurrent(300, concurrency, t.run);

    // The access records of the reads so far are chained by the audit before a phase starts, so no
    // phase pays for the one before it (bounded: the bench goes on after a minute, and says so).
    const nc = await connect({ servers: NATS_URL });
    const jsm = await nc.jetstreamManager();
    const drained: Record<string, boolean> = {};
    const settle = async (phase: string) => {
      const deadline = Date.now() + 60_000;
      for (;;) {
        const info = await jsm.consumers.info(streamName(label), 'audit-recorder');
        if (info.num_pending + info.num_ack_pending === 0) return void (drained[phase] = true);
        if (Date.now() > deadline) return void (drained[phase] = false);
        await new Promise((r) => setTimeout(r, 200));
      }
    };
    cpuProcs = procs;
    await settle('subject');
    const load0 = loadavg()[0];
    const perChunk = Math.max(concurrency, Math.floor(count / ROUNDS));
    const windows: Record<string, Array<[number, number]>> = {};
    // subjects' access records (`pd.accessed` in its outbox): one per read of a subject, whoever asked.
    const subjectRecords = async () => (await db.subjects.query<{ n: number }>(`select count(*)::int n from outbox where subject like '%.pd.accessed'`)).rows[0]!.n;
    const subject = await alternate(subjectTargets, perChunk, concurrency, windows, subjectRecords);
    await settle('sameSubject');
    const same = await alternate(sameTargets, Math.max(concurrency, Math.floor(perChunk / 4)), concurrency, {}, subjectRecords);
    await settle('consentTemplate');
    await nc.close();
    const templateWindows: Record<string, Array<[number, number]>> = {};
    const template = await alternate(templateTargets, perChunk * 2, concurrency, templateWindows);
    const load1 = loadavg()[0];

    let profileSummary: Record<string, Record<string, ReturnType<typeof summariseProfile>>> | null = null;
    if (profile) {
      // Stopping a process writes its profile. Our gateway's samples in our chunks; the subgraphs' in
      // our gateway's and Hive's chunks (they serve both).
      for (const proc of procs) if (proc !== hive) await stop(proc);
      const read = (name: string) => JSON.parse(readFileSync(join(profileDir, `${name}.cpuprofile`), 'utf8')) as CpuProfile;
      const both = (w: Record<string, Array<[number, number]>>) => [...(w.ours ?? []), ...(w.hive ?? [])];
      profileSummary = { subject: { gateway: summariseProfile(read('gateway'), windows.ours ?? []) }, consentTemplate: { gateway: summariseProfile(read('gateway'), templateWindows.ours ?? []) } };
      for (const name of SUBGRAPHS) profileSummary.subject![name] = summariseProfile(read(name), both(windows));
      profileSummary.consentTemplate!.consents = summariseProfile(read('consents'), both(templateWindows));
    }
    return {
      scenario: 'read',
      requestsPerTarget: { subject: perChunk * ROUNDS, consentTemplate: perChunk * 2 * ROUNDS },
      concurrency,
      rounds: ROUNDS,
      seeded: { subjects: SUBJECTS, appealsEach: 3, consentsEach: 3, seconds: Number(seedSeconds.toFixed(1)) },
      auditDrainedBefore: drained,
      loadAverage1m: { before: Number(load0!.toFixed(2)), after: Number(load1!.toFixed(2)) },
      subject: {
        ...subject,
        oursOverHive: ratio(subject.ours, subject.hive),
        oursOverSql: ratio(subject.ours, subject.sql),
        hiveOverSql: ratio(subject.hive, subject.sql),
      },
      sameSubjectSameCredentials: { ...same, oursOverHive: ratio(same.oursSameSubjectSameToken, same.hiveSameSubjectSharedHeader) },
      consentTemplate: {
        ...template,
        oursOverHive: ratio(template.ours, template.hive),
        oursOverSubgraph: ratio(template.ours, template.subgraph),
        hiveOverSubgraph: ratio(template.hive, template.subgraph),
        oursOverHiveSharedHeader: ratio(template.ours, template.hiveSharedHeader),
      },
      ...(profileSummary ? { profile: profileSummary } : {}),
    };
  } catch (err) {
    failed = true;
    throw err;
  } finally {
    for (const pool of pools) await pool.end().catch(() => undefined);
    for (const proc of [...procs].reverse()) await stop(proc);
    await dropRun(SERVER_URL, NATS_URL, label).catch((err: unknown) => console.error(`cleanup of ${label} failed:`, err));
    // A failed run keeps every process's log (the last lines of each) for a look.
    if (process.env.READ_KEEP_LOGS !== '1' && !failed) rmSync(log, { recursive: true, force: true });
    else console.error(`logs in ${log}`);
  }
}
