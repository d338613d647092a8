/**
 * bench/intake: `submitAppeal` through the gateway (validation, sealing, encryption, the appeal and
 * its outbox event in one transaction) against a baseline measured in the same run: the same writes
 * (a reference number, the appeal row with three fields encrypted, an outbox row) done directly
 * against the appeals database, with the same concurrency and as many connections as the service has.
 *
 * The platform runs as `npm start` runs it (bench/processes.ts): each service and the gateway its own
 * process, so the two cores are shared as in production and each process's CPU is counted apart.
 * A submission is not done when it is answered: subjects registers the person, consents records the
 * consent, both link it, the audit chains every event. So besides the answered rate the bench waits,
 * after each chunk, until every service has settled, and reports that end-to-end rate and the CPU
 * each process spent per submission, the settling included.
 *
 * Chunks alternate (baseline, gateway, gateway, baseline, …) so a change of the machine's load falls
 * on both alike; a baseline chunk starts only once the platform has settled.
 * `npm run bench -- intake [count] [concurrency]`; `INTAKE_PROFILE=1` writes a CPU profile of every
 * process (bench/results/intake-profile/) and summarises each over the gateway chunks.
 */
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { createDb, FieldCipher, randomKeySpec, streamName, type Envelope, type EventType } from '@pdp/shared';
import { eventually, makeIin } from '@pdp/shared/testing';
import { graphql } from '@pdp/tests/support/client';
import { form, SUBMIT } from '@pdp/tests/support/intake';
import type { Databases } from '@pdp/tests/support/system';
import { sql, type Kysely } from 'kysely';
import { connect } from 'nats';
import pg from 'pg';
import { SUBGRAPHS } from '../gateway/src/composition';
import { appendEntries, chainHead, lockChain } from '../services/audit/src/db/entries.repository';
import { fromEnvelope } from '../services/audit/src/domain/entry';
import { signHead } from '../services/audit/src/domain/head';
import { insertConsent, templateInForce } from '../services/consents/src/db/consents.repository';
import { findOrRegisterSubject } from '../services/subjects/src/db/subjects.repository';
import { iinBlindIndex } from '../services/subjects/src/domain/identity';
import {
  addCpu,
  cpuSnapshot,
  monotonicMicros,
  NATS_URL,
  perRequest,
  readProfile,
  startProcessPlatform,
  stop,
  summariseProfile,
  type CpuSplit,
  type ProcessPlatform,
} from './processes';
import { runConcurrent, stats } from './support';

/** The baseline signs each append's head as the audit's recorder does (the key itself is not checked here). */
const HEAD_KEY = generateKeyPairSync('ed25519').privateKey;

const ROUNDS = 2;
/** The appeals service's pool (DB_POOL_MAX in bench/processes.ts): the baseline gets as many connections. */
const POOL = 8;
type AppealsDatabase = Databases['appeals'] extends Kysely<infer D> ? D : never;
type DatabaseOf<N extends keyof Databases> = Databases[N] extends Kysely<infer D> ? D : never;
/** The events of one submission, in the order the platform makes them: what the audit chains. */
const SUBMISSION_EVENTS: EventType[] = ['appeal.submitted', 'subject.registered', 'subject.appeal_linked', 'consent.recorded', 'consent.subject_linked'];

/** Counts what every service has settled: appeals and consents linked to their subject, nothing left unpublished or unrecorded. */
async function settledProbe(platform: ProcessPlatform) {
  const pools = Object.fromEntries(
    SUBGRAPHS.map((name) => [name, new pg.Pool({ connectionString: platform.databaseUrls[name], max: 1, application_name: 'bench-intake' })]),
  ) as Record<(typeof SUBGRAPHS)[number], pg.Pool>;
  const nc = await connect({ servers: NATS_URL });
  const jsm = await nc.jetstreamManager();
  const count = async (pool: pg.Pool, query: string) => (await pool.query<{ n: number }>(query)).rows[0]!.n;
  const unpublished = 'select count(*)::int n from outbox where published_at is null';
  return {
    /** True when `expected` appeals and consents are linked and no event is on its way anywhere. */
    async settled(expected: number): Promise<boolean> {
      const [appeals, consents] = await Promise.all([
        // (the baselines' rows, channel 'baseline', are not the platform's to settle)
        count(pools.appeals, "select count(*)::int n from appeals where subject_id is not null and channel <> 'baseline'"),
        count(pools.consents, "select count(*)::int n from consents where subject_id is not null and channel <> 'baseline'"),
      ]);
      if (appeals < expected || consents < expected) return false;
      const outboxes = await Promise.all(SUBGRAPHS.map((name) => count(pools[name], unpublished)));
      if (outboxes.some((n) => n > 0)) return false;
      const info = await jsm.consumers.info(streamName(platform.label), 'audit-recorder');
      return info.num_pending + info.num_ack_pending === 0;
    },
    async close() {
      await nc.close();
      for (const pool of Object.values(pools)) await pool.end();
    },
  };
}

/** The baseline's writes: what the intake's own transaction stores, without the platform around it. */
function directInsert(db: Kysely<AppealsDatabase>, cipher: FieldCipher<AppealsDatabase>) {
  return async () => {
    const id = randomUUID();
    await db.transaction().execute(async (trx) => {
      const { rows } = await sql<{ n: string }>`select nextval('appeal_reference_seq') as n`.execute(trx);
      await trx
        .insertInto('appeals')
        .values({
          id,
          reference: `BASE-${rows[0]!.n}`,
          kind: 'APPEAL',
          status: 'NEW',
          channel: 'baseline',
          locale: 'RU',
          subject_id: null,
          phone_enc: cipher.encrypt('+77011234567', { table: 'appeals', column: 'phone_enc', id }),
          email_enc: cipher.encrypt('a@b.kz', { table: 'appeals', column: 'email_enc', id }),
          description_enc: cipher.encrypt('baseline text', { table: 'appeals', column: 'description_enc', id }),
          deadline: '2026-12-31',
        })
        .execute();
      // Published rows, so the relay leaves them alone and consumers never see them.
      await trx
        .insertInto('outbox')
        .values({ id, subject: 'baseline', payload: JSON.stringify({ id }), published_at: new Date() })
        .execute();
    });
  };
}

/**
 * The second baseline: every row one submission leaves in the four databases, written straight with
 * the services' own repository functions, each database's rows in one transaction — the subject
 * registered (IIN encrypted, blind index, category, source, purpose), then at once the appeal (as
 * `directInsert`) with its history, the Annex 2 consent (the template in force looked up, the
 * evidence encrypted) and the five chained audit entries (built from the warm-up's real events).
 * What it leaves out is what the guarantees add: GraphQL and HTTP, tokens, validation, sealing,
 * signed events, the relays, NATS and the consumers with their inboxes.
 */
type Ciphers = { [N in 'subjects' | 'appeals' | 'consents']: FieldCipher<DatabaseOf<N>> };

/** The services' ciphers as each service makes its own (the service name is bound into every value). */
function ciphers(spec: string): Ciphers {
  return {
    subjects: new FieldCipher<DatabaseOf<'subjects'>>('subjects', spec),
    appeals: new FieldCipher<DatabaseOf<'appeals'>>('appeals', spec),
    consents: new FieldCipher<DatabaseOf<'consents'>>('consents', spec),
  };
}

function directSubmission(dbs: { [N in keyof Databases]: Kysely<DatabaseOf<N>> }, cipher: Ciphers, blindKey: string, events: Map<EventType, Envelope>) {
  let n = 0;
  return async () => {
    n += 1;
    const appealId = randomUUID();
    const iin = makeIin('1970-01-01', n % 2 ? 'M' : 'F', n);
    const newSubjectId = randomUUID();
    const consentId = randomUUID();
    const subject = await dbs.subjects.transaction().execute((trx) =>
      findOrRegisterSubject(trx, {
        id: newSubjectId,
        iinBidx: iinBlindIndex(blindKey, iin),
        iinEncrypted: cipher.subjects.encrypt(iin, { table: 'subjects', column: 'iin_enc', id: newSubjectId }),
        category: 'APPLICANT',
        source: { code: 'WEB_FORM_ANNEX_3', reference: appealId },
        purpose: { code: 'APPEAL_HANDLING', reference: appealId },
      }),
    );
    const givenAt = new Date();
    await Promise.all([
      dbs.appeals.transaction().execute(async (trx) => {
        const { rows } = await sql<{ n: string }>`select nextval('appeal_reference_seq') as n`.execute(trx);
        await trx
          .insertInto('appeals')
          .values({
            id: appealId,
            reference: `BASE-${rows[0]!.n}`,
            kind: 'APPEAL',
            status: 'NEW',
            channel: 'baseline',
            locale: 'RU',
            subject_id: subject.id,
            phone_enc: cipher.appeals.encrypt('+77011234567', { table: 'appeals', column: 'phone_enc', id: appealId }),
            email_enc: cipher.appeals.encrypt('a@b.kz', { table: 'appeals', column: 'email_enc', id: appealId }),
            description_enc: cipher.appeals.encrypt('baseline text', { table: 'appeals', column: 'description_enc', id: appealId }),
            deadline: '2026-12-31',
          })
          .execute();
        await trx.insertInto('appeal_changes').values({ appeal_id: appealId, status: 'NEW', note_enc: null, changed_by: 'public' }).execute();
        await trx
          .insertInto('outbox')
          .values({ id: appealId, subject: 'baseline', payload: JSON.stringify({ id: appealId }), published_at: new Date() })
          .execute();
      }),
      dbs.consents.transaction().execute(async (trx) => {
        const template = await templateInForce(trx, 'ANNEX2_APPLICANT', 'RU', givenAt);
        if (!template) throw new Error('no ANNEX2_APPLICANT template in force');
        await insertConsent(trx, {
          id: consentId,
          templateCode: template.code,
          templateVersion: template.version,
          locale: 'RU',
          channel: 'baseline',
          givenAt,
          ipEnc: cipher.consents.encrypt('127.0.0.1', { table: 'consents', column: 'ip_enc', id: consentId }),
          userAgentEnc: cipher.consents.encrypt('bench', { table: 'consents', column: 'user_agent_enc', id: consentId }),
          documentEnc: null,
          enteredBy: null,
          appealId,
          subjectId: subject.id,
          categories: ['APPLICANT'],
          purpose: { code: 'APPEAL_HANDLING', reference: appealId },
        });
      }),
      // As the recorder appends: under the chain lock, after the head, the new head signed.
      dbs.audit.transaction().execute(async (trx) => {
        await lockChain(trx);
        const head = await chainHead(trx);
        return appendEntries(
          trx,
          SUBMISSION_EVENTS.map((type) => fromEnvelope({ ...events.get(type)!, id: randomUUID(), subjectId: subject.id, occurredAt: givenAt.toISOString() })),
          head && { seq: head.seq, prevHash: head.hash, recordedAt: head.recordedAt },
          (h) => ({ keyId: 'bench', signature: signHead('pdp.audit/bench', 'bench', HEAD_KEY, h).signature }),
        );
      }),
    ]);
  };
}

/** One real event of each of a submission's types, as the platform made them (from the outboxes). */
async function submissionEvents(platform: ProcessPlatform): Promise<Map<EventType, Envelope>> {
  const found = new Map<EventType, Envelope>();
  for (const name of SUBGRAPHS) {
    const pool = new pg.Pool({ connectionString: platform.databaseUrls[name], max: 1 });
    try {
      const { rows } = await pool.query<{ payload: string }>(
        `select distinct on (subject) payload from outbox where subject = any($1) order by subject, seq desc`,
        [SUBMISSION_EVENTS.map((type) => `${platform.label}.events.${type}`)],
      );
      for (const { payload } of rows) {
        const event = (typeof payload === 'string' ? JSON.parse(payload) : payload) as Envelope;
        found.set(event.type, event);
      }
    } finally {
      await pool.end();
    }
  }
  const missing = SUBMISSION_EVENTS.filter((type) => !found.has(type));
  if (missing.length > 0) throw new Error(`no warm-up event of ${missing.join(', ')} in the outboxes`);
  return found;
}

export async function intakeBench(count: number, concurrency: number) {
  const profileRoot = process.env.INTAKE_PROFILE === '1' ? join(import.meta.dirname, 'results', 'intake-profile') : null;
  const platform = await startProcessPlatform({ label: `bench_intake_${Date.now().toString(36)}`, profileRoot });
  let failed = false;
  const appeals = createDb<AppealsDatabase>(platform.databaseUrls.appeals, POOL);
  const dbs = {
    appeals,
    subjects: createDb<DatabaseOf<'subjects'>>(platform.databaseUrls.subjects, POOL),
    consents: createDb<DatabaseOf<'consents'>>(platform.databaseUrls.consents, POOL),
    audit: createDb<DatabaseOf<'audit'>>(platform.databaseUrls.audit, POOL),
  };
  const probe = await settledProbe(platform);
  try {
    let submitted = 0;
    const submit = async () => {
      const i = submitted;
      submitted += 1;
      const res = await graphql(platform.gatewayUrl, SUBMIT, { input: form({ iin: makeIin('1980-01-01', i % 2 ? 'M' : 'F', i * 3 + 1) }) });
      if (res.errors) throw new Error(JSON.stringify(res.errors).slice(0, 300));
    };
    const settle = async () => eventually(() => probe.settled(submitted), 600_000, 'intake settled everywhere');
    const cipher = ciphers(randomKeySpec());
    const baselineInsert = directInsert(appeals, cipher.appeals);

    // Warm-up of every process (connections, JIT, prepared plans) and of the baselines.
    await runConcurrent(200, concurrency, submit);
    await settle();
    const fullInsert = directSubmission(dbs, cipher, platform.secrets.BLIND_INDEX_KEY!, await submissionEvents(platform));
    await runConcurrent(200, concurrency, baselineInsert);
    await runConcurrent(200, concurrency, fullInsert);

    const perChunk = Math.max(concurrency, Math.floor(count / ROUNDS));
    const baseline = { latencies: [] as number[], seconds: 0, chunks: [] as number[] };
    const full = { latencies: [] as number[], seconds: 0, chunks: [] as number[] };
    const gateway = { latencies: [] as number[], seconds: 0, settledSeconds: 0, chunks: [] as number[], settledChunks: [] as number[] };
    const cpu = { baseline: {} as CpuSplit, full: {} as CpuSplit, gateway: {} as CpuSplit };
    const windows: Array<[number, number]> = [];
    for (let round = 0; round < ROUNDS; round += 1) {
      for (const target of round % 2 === 0 ? (['baseline', 'full', 'gateway'] as const) : (['gateway', 'full', 'baseline'] as const)) {
        const before = cpuSnapshot(platform.procs);
        if (target !== 'gateway') {
          const into = target === 'baseline' ? baseline : full;
          const r = await runConcurrent(perChunk, concurrency, target === 'baseline' ? baselineInsert : fullInsert);
          addCpu(cpu[target], before, cpuSnapshot(platform.procs));
          into.latencies.push(...r.latencies);
          into.seconds += r.seconds;
          into.chunks.push(Number((perChunk / r.seconds).toFixed(1)));
          continue;
        }
        const from = monotonicMicros();
        const t0 = performance.now();
        const r = await runConcurrent(perChunk, concurrency, submit);
        await settle();
        const settledSeconds = (performance.now() - t0) / 1000;
        addCpu(cpu.gateway, before, cpuSnapshot(platform.procs));
        windows.push([from, monotonicMicros()]);
        gateway.latencies.push(...r.latencies);
        gateway.seconds += r.seconds;
        gateway.settledSeconds += settledSeconds;
        gateway.chunks.push(Number((perChunk / r.seconds).toFixed(1)));
        gateway.settledChunks.push(Number((perChunk / settledSeconds).toFixed(1)));
      }
    }

    let profile: Record<string, ReturnType<typeof summariseProfile>> | null = null;
    if (platform.profileDir) {
      // Stopping a process writes its profile; each is summarised over the gateway chunks (submission to settled).
      for (const proc of platform.procs) await stop(proc);
      profile = Object.fromEntries(platform.procs.map((p) => [p.name, summariseProfile(readProfile(platform.profileDir!, p.name), windows, 25)]));
    }

    const base = stats(baseline.latencies, baseline.seconds);
    const fullBase = stats(full.latencies, full.seconds);
    const gw = stats(gateway.latencies, gateway.seconds);
    const settledPerSecond = Number((gateway.latencies.length / gateway.settledSeconds).toFixed(1));
    return {
      scenario: 'intake',
      count: perChunk * ROUNDS,
      concurrency,
      rounds: ROUNDS,
      baseline: { ...base, chunks: baseline.chunks },
      /** Every row a submission leaves, in all four databases, written straight (directSubmission). */
      fullBaseline: { ...fullBase, chunks: full.chunks },
      submitAppeal: { ...gw, chunks: gateway.chunks },
      /** Submissions per second from the first of a chunk until every service had settled all of them. */
      settled: { perSecond: settledPerSecond, seconds: Number(gateway.settledSeconds.toFixed(2)), chunks: gateway.settledChunks },
      throughputRatio: Number((gw.perSecond / base.perSecond).toFixed(3)),
      settledRatio: Number((settledPerSecond / base.perSecond).toFixed(3)),
      p50Ratio: Number((gw.p50 / base.p50).toFixed(2)),
      throughputRatioFull: Number((gw.perSecond / fullBase.perSecond).toFixed(3)),
      settledRatioFull: Number((settledPerSecond / fullBase.perSecond).toFixed(3)),
      cpuMsPerRequest: {
        submitAppealUntilSettled: perRequest(cpu.gateway, gateway.latencies.length),
        baseline: perRequest(cpu.baseline, baseline.latencies.length),
        fullBaseline: perRequest(cpu.full, full.latencies.length),
      },
      ...(profile ? { profile } : {}),
    };
  } catch (err) {
    failed = true;
    throw err;
  } finally {
    await probe.close().catch(() => undefined);
    for (const db of Object.values(dbs)) await db.destroy();
    await platform.destroy(failed);
  }
}
