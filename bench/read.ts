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
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { FieldCipher, ActorTokenSigner, streamName, type Actor, type RequestMeta } from '@pdp/shared';
import { eventually, makeIin } from '@pdp/shared/testing';
import { graphql } from '@pdp/tests/support/client';
import { Accounts } from '@pdp/tests/support/identity';
import { form, SUBMIT } from '@pdp/tests/support/intake';
import { connect } from 'nats';
import pg from 'pg';
import { composeSupergraph, SUBGRAPHS } from '../gateway/src/composition';
import type { Database as AppealsDatabase } from '../services/appeals/src/db/tables';
import {
  addCpu,
  freePort,
  cpuSnapshot,
  monotonicMicros,
  NATS_URL,
  perRequest,
  readProfile,
  root,
  start,
  startProcessPlatform,
  stop,
  summariseProfile,
  waitReady,
  type CpuSplit,
  type Proc,
} from './processes';
import { runConcurrent, stats, type Stats } from './support';

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

/** Every process whose CPU a chunk counts: the platform's and Hive Gateway. */
let cpuProcs: Proc[] = [];

const SUBGRAPH_NAMES = ['subjects', 'appeals', 'consents', 'audit'] as const;

/**
 * The actor headers a client of Hive Gateway (or of a subgraph directly) sends: one per subgraph
 * (`x-pdp-actor-<subgraph>`, the token's audience is that subgraph), signed with the gateway's key
 * as our gateway would, re-signed every 30 s; Hive passes each to its subgraph as `x-pdp-actor`.
 */
function actorHeader(signingKey: string, actor: Actor) {
  const signer = ActorTokenSigner.fromKey(signingKey);
  let headers: Record<string, string> = {};
  let signedAt = 0;
  return async (): Promise<Record<string, string>> => {
    if (Date.now() - signedAt > 30_000) {
      const meta: RequestMeta = { requestId: crypto.randomUUID(), locale: 'RU', ip: '127.0.0.1', userAgent: 'bench-read' };
      headers = Object.fromEntries(SUBGRAPH_NAMES.map((s) => [`x-pdp-actor-${s}`, signer.sign(actor, meta, s)]));
      signedAt = Date.now();
    }
    return headers;
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
  const pooled = new Map<string, { latencies: number[]; seconds: number; chunks: number[] }>(
    targets.map((t) => [t.name, { latencies: [], seconds: 0, chunks: [] }]),
  );
  const only = process.env.READ_TARGETS?.split(',');
  for (let round = 0; round < ROUNDS; round += 1) {
    const order = round % 2 === 0 ? targets : [...targets].reverse();
    for (const target of order) {
      if (only && !only.includes(target.name)) continue;
      const offset = round * perChunk;
      const from = monotonicMicros();
      const recordsBefore = await records?.();
      const before = cpuSnapshot(cpuProcs);
      const r = await runConcurrent(perChunk, concurrency, (i) => target.run(offset + i));
      const after = cpuSnapshot(cpuProcs);
      if (records) recorded.set(target.name, (recorded.get(target.name) ?? 0) + (await records()) - recordsBefore!);
      cpu.set(target.name, addCpu(cpu.get(target.name) ?? {}, before, after));
      (windows[target.name] ??= []).push([from, monotonicMicros()]);
      const p = pooled.get(target.name)!;
      p.latencies.push(...r.latencies);
      p.seconds += r.seconds;
      p.chunks.push(Number((perChunk / r.seconds).toFixed(1)));
    }
  }
  return Object.fromEntries(
    [...pooled]
      .filter(([, p]) => p.chunks.length > 0)
      .map(([name, p]) => [
        name,
        {
          ...stats(p.latencies, p.seconds),
          chunks: p.chunks,
          cpuMsPerRequest: perRequest(cpu.get(name) ?? {}, p.latencies.length),
          ...(recorded.has(name) ? { accessRecordsPerRequest: Number((recorded.get(name)! / p.latencies.length).toFixed(3)) } : {}),
        },
      ]),
  );
}

const ratio = (a: Stats | undefined, b: Stats | undefined) => (a && b ? Number((a.perSecond / b.perSecond).toFixed(3)) : null);

export async function readBench(count: number, concurrency: number) {
  const pools: pg.Pool[] = [];
  const profileRoot = process.env.READ_PROFILE === '1' ? join(import.meta.dirname, 'results', 'read-profile') : null;
  let failed = false;
  // READ_TRACING=on: every process traces, every trace sampled, to an OTLP/HTTP sink here that counts and drops.
  const sink = process.env.READ_TRACING === 'on' ? await otlpSink() : null;
  const platform = await startProcessPlatform({ label: `bench_read_${Date.now().toString(36)}`, profileRoot, serviceEnv: sink?.env, gatewayEnv: sink?.env });
  const { label, secrets, urls, databaseUrls, logDir: log, profileDir } = platform;
  const procs: Proc[] = [...platform.procs];
  const ourUrl = platform.gatewayUrl;
  let hive: Proc | null = null;
  try {
    // Hive Gateway: the same supergraph SDL our gateway composes, the actor header passed through.
    const hivePort = await freePort();
    writeFileSync(join(log, 'supergraph.graphql'), composeSupergraph(urls));
    writeFileSync(
      join(log, 'gateway.config.mjs'),
      `export const gatewayConfig = {
  logging: 'error',
  propagateHeaders: { fromClientToSubgraphs: ({ request, subgraphName }) => ({ 'x-pdp-actor': request.headers.get('x-pdp-actor-' + subgraphName) }) },
};\n`,
    );
    const hiveBin = join(root, 'bench', 'node_modules', '@graphql-hive', 'gateway', 'dist', 'bin.js');
    hive = start(
      'hive',
      process.execPath,
      [
        hiveBin,
        'supergraph',
        join(log, 'supergraph.graphql'),
        '--host',
        '127.0.0.1',
        '--port',
        String(hivePort),
        '--config-path',
        join(log, 'gateway.config.mjs'),
        '--disable-websockets',
      ],
      { NODE_ENV: 'production' },
      log,
    );
    procs.push(hive);
    cpuProcs = procs;
    const hiveUrl = `http://127.0.0.1:${hivePort}/graphql`;
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
    await eventually(
      async () => {
        const a = await db.appeals.query('select count(*)::int n from appeals where subject_id is not null');
        const c = await db.consents.query('select count(*)::int n from consents where subject_id is not null');
        return a.rows[0].n === SUBJECTS * 3 && c.rows[0].n === SUBJECTS * 3;
      },
      300_000,
      'seeded appeals and consents linked to their subjects',
    );
    const ids = (await db.subjects.query<{ id: string }>('select id from subjects order by id')).rows.map((r) => r.id);
    if (ids.length !== SUBJECTS) throw new Error(`expected ${SUBJECTS} subjects, found ${ids.length}`);
    const seedSeconds = (performance.now() - seedStarted) / 1000;

    // Clients: 16 DPOs, each with their own token (a cached verification must not make one token do everyone's work).
    const accounts = new Accounts(() => ourUrl, platform.provider);
    const dpoTokens: string[] = [];
    for (let i = 0; i < concurrency; i += 1) dpoTokens.push(await accounts.tokenFor(['DPO'], { sub: `dpo-${i + 1}` }));
    const dpoHeader = Array.from({ length: concurrency }, (_, i) =>
      actorHeader(secrets.ACTOR_SIGNING_KEY!, { id: `dpo-${i + 1}`, roles: ['DPO'], creditorId: null }),
    );
    // Each client its own signed header, as each request through a gateway has its own token (request id).
    const publicHeaders = Array.from({ length: concurrency }, () =>
      actorHeader(secrets.ACTOR_SIGNING_KEY!, { id: 'anonymous', roles: ['PUBLIC'], creditorId: null }),
    );
    const sharedPublicHeader = publicHeaders[0]!;
    const cipher = new FieldCipher<AppealsDatabase>('appeals', secrets.PD_ENCRYPTION_KEYS!);

    const subjectTargets: Target[] = [
      {
        name: 'ours',
        run: async (i) =>
          checkSubject(await post(ourUrl, SUBJECT_READ, { id: ids[i % ids.length] }, { authorization: `Bearer ${dpoTokens[i % concurrency]}` })),
      },
      { name: 'hive', run: async (i) => checkSubject(await post(hiveUrl, SUBJECT_READ, { id: ids[i % ids.length] }, await dpoHeader[i % concurrency]!())) },
      {
        name: 'sql',
        run: async (i) => {
          const id = ids[i % ids.length]!;
          const [s, a, c] = await Promise.all([
            db.subjects.query(
              'select s.id, s.status, array(select category from subject_categories where subject_id = s.id) categories from subjects s where s.id = $1',
              [id],
            ),
            db.appeals.query(
              'select id, reference, kind, status, deadline, submitted_at, phone_enc, email_enc, description_enc from appeals where subject_id = $1 and depersonalized_at is null order by submitted_at',
              [id],
            ),
            db.consents.query(
              'select id, template_code, template_version, withdrawn_at, given_at, channel from consents where subject_id = $1 order by given_at',
              [id],
            ),
          ]);
          const appeals = a.rows.map((r) => ({
            ...r,
            contact: {
              phone: r.phone_enc && cipher.decrypt(r.phone_enc, { table: 'appeals', column: 'phone_enc', id: r.id }),
              email: r.email_enc && cipher.decrypt(r.email_enc, { table: 'appeals', column: 'email_enc', id: r.id }),
              description: cipher.decrypt(r.description_enc, { table: 'appeals', column: 'description_enc', id: r.id }),
            },
          }));
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
      {
        name: 'oursSameSubjectSameToken',
        run: async () => checkSubject(await post(ourUrl, SUBJECT_READ, { id: oneSubject }, { authorization: `Bearer ${dpoTokens[0]}` })),
      },
      { name: 'hiveSameSubjectSharedHeader', run: async () => checkSubject(await post(hiveUrl, SUBJECT_READ, { id: oneSubject }, await dpoHeader[0]!())) },
    ];
    const templateTargets: Target[] = [
      { name: 'ours', run: async () => void (await post(ourUrl, TEMPLATE_READ, {}, {})) },
      { name: 'hive', run: async (i) => void (await post(hiveUrl, TEMPLATE_READ, {}, await publicHeaders[i % concurrency]!())) },
      {
        name: 'subgraph',
        run: async (i) =>
          void (await post(urls.consents, TEMPLATE_READ, {}, { 'x-pdp-actor': (await publicHeaders[i % concurrency]!())['x-pdp-actor-consents']! })),
      },
      // Every client with the same header: Hive then merges identical queries in flight into one
      // subgraph call (executor-http's deduplicateInflightRequests, on by default). Our gateway cannot:
      // each request carries its own actor token, whose request id correlates what it leaves recorded.
      { name: 'hiveSharedHeader', run: async () => void (await post(hiveUrl, TEMPLATE_READ, {}, await sharedPublicHeader())) },
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
    await settle('subject');
    const load0 = loadavg()[0];
    const perChunk = Math.max(concurrency, Math.floor(count / ROUNDS));
    const windows: Record<string, Array<[number, number]>> = {};
    // subjects' access records (`pd.accessed` in its outbox): one per read of a subject, whoever asked.
    const subjectRecords = async () =>
      (await db.subjects.query<{ n: number }>(`select count(*)::int n from outbox where subject like '%.pd.accessed'`)).rows[0]!.n;
    const subject = await alternate(subjectTargets, perChunk, concurrency, windows, subjectRecords);
    await settle('sameSubject');
    const same = await alternate(sameTargets, Math.max(concurrency, Math.floor(perChunk / 4)), concurrency, {}, subjectRecords);
    await settle('consentTemplate');
    await nc.close();
    const templateWindows: Record<string, Array<[number, number]>> = {};
    const template = await alternate(templateTargets, perChunk * 2, concurrency, templateWindows);
    const load1 = loadavg()[0];

    let profileSummary: Record<string, Record<string, ReturnType<typeof summariseProfile>>> | null = null;
    if (profileDir) {
      // Stopping a process writes its profile. Our gateway's samples in our chunks; the subgraphs' in
      // our gateway's and Hive's chunks (they serve both).
      for (const proc of platform.procs) await stop(proc);
      const read = (name: string) => readProfile(profileDir, name);
      const both = (w: Record<string, Array<[number, number]>>) => [...(w.ours ?? []), ...(w.hive ?? [])];
      profileSummary = {
        subject: { gateway: summariseProfile(read('gateway'), windows.ours ?? []) },
        consentTemplate: { gateway: summariseProfile(read('gateway'), templateWindows.ours ?? []) },
      };
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
      tracing: sink ? { on: true, exports: sink.exports, bytes: sink.bytes } : { on: false },
    };
  } catch (err) {
    failed = true;
    throw err;
  } finally {
    for (const pool of pools) await pool.end().catch(() => undefined);
    if (hive) await stop(hive);
    await platform.destroy(failed);
    await sink?.close();
  }
}

/**
 * An OTLP/HTTP receiver that answers every export and keeps nothing but counts: what a collector
 * costs the processes (the exporter's work) without a collector's own CPU on the machine.
 */
async function otlpSink() {
  const counts = { exports: 0, bytes: 0 };
  const server = createServer((req, res) => {
    req.on('data', (chunk: Buffer) => void (counts.bytes += chunk.length));
    req.on('end', () => {
      counts.exports += 1;
      res.writeHead(200, { 'content-type': 'application/x-protobuf' });
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    env: { OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`, OTEL_TRACES_SAMPLER: 'parentbased_always_on' },
    get exports() {
      return counts.exports;
    },
    get bytes() {
      return counts.bytes;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
