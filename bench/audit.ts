/**
 * bench/audit: the audit at scale. Seeds N entries (10 million by default) straight into a fresh
 * audit database — a valid chain, a signed checkpoint every 1000 entries, as the recorder would leave
 * it — then times, through the audit subgraph:
 *   - verifyAuditChain(full: true) against a baseline measured in the same run: reading the same rows
 *     with the same SQL, without hashing them;
 *   - verifyAuditChain() incremental after 1000 new entries, against reading those 1000 rows;
 *   - auditEntries with each filter (p50/p95 of 30 calls, 100 per page), against the same number of
 *     primary-key page reads of 100 rows.
 * `npm run bench -- audit [count]`; results in bench/results/audit.json and docs/performance.md.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { ACTOR_HEADER, calendarFromEnv } from '@pdp/shared';
import { callSubgraph, isolatedServiceConfig, testActorSigner } from '@pdp/shared/testing';
import { sql, type Kysely } from 'kysely';
import { ENTRY_HASH_VERSION, GENESIS_HASH, entryHash, isoMicros, signCheckpoint, type ChainEntry, type Checkpoint } from '../services/audit/src/domain/chain';
import { checkpointKeys, generateCheckpointKey } from '../services/audit/src/domain/keys';
import { encodeAuditCursor } from '../services/audit/src/domain/cursor';
import type { Database } from '../services/audit/src/db/tables';
import { startAudit } from '../services/audit/src/service';
import { stats } from './support';

const BATCH = 10_000;
const CHECKPOINT_EVERY = 1000;
const auditor = { id: 'bench-auditor', roles: ['AUDITOR' as const], creditorId: null };

/** A year of activity: mostly reads, some intake and lifecycle, a few refusals; 1000 actors, 200 000 subjects. */
function* entries(count: number, startSeq: bigint, prevHash: string, from: number, to: number, origin: string, key: ReturnType<typeof checkpointKeys>) {
  const subjects = Array.from({ length: 2000 }, () => randomUUID());
  const kinds = [
    ['pd.accessed', 'ACCESS', 'appeals', 'ALLOWED', 'appeal'],
    ['pd.accessed', 'ACCESS', 'subjects', 'ALLOWED', 'subject'],
    ['pd.accessed', 'ACCESS', 'consents', 'ALLOWED', 'consent'],
    ['appeal.submitted', 'COLLECT', 'appeals', 'ALLOWED', 'appeal'],
    ['appeal.status_changed', 'MODIFY', 'appeals', 'ALLOWED', 'appeal'],
    ['access.denied', 'DENIED', 'subjects', 'DENIED', 'Query.subject'],
    ['subject.blocked', 'BLOCK', 'subjects', 'ALLOWED', 'subject'],
    ['erasure.receipt', 'DESTROY', 'appeals', 'ALLOWED', 'erasure_act'],
  ] as const;
  const weights = [40, 25, 15, 8, 7, 3, 1, 1];
  const pick = (i: number) => {
    let r = (i * 2654435761) % 100;
    for (let k = 0; k < weights.length; k += 1) if ((r -= weights[k]!) < 0) return kinds[k]!;
    return kinds[0];
  };
  let prev = prevHash;
  const step = (to - from) / count;
  for (let i = 0; i < count; i += 1) {
    const seq = startSeq + BigInt(i);
    const [type, operation, source, outcome, resource] = pick(Number(seq));
    const at = new Date(Math.floor(from + i * step));
    const subjectId = i % 17 === 0 ? null : subjects[i % subjects.length]!.slice(0, 30) + String(Number(seq) % 200_000).padStart(6, '0');
    const entry: ChainEntry = {
      seq: String(seq),
      hashVersion: ENTRY_HASH_VERSION,
      eventId: randomUUID(),
      type,
      operation,
      source,
      actorId: `staff-${Number(seq) % 1000}`,
      actorRoles: ['OPERATOR'],
      creditorId: null,
      purpose: 'APPEAL_HANDLING',
      outcome,
      subjectId,
      correlationId: randomUUID(),
      clientKey: null,
      resource,
      resourceIds: subjectId ? [subjectId] : [],
      fields: ['phone', 'email'],
      occurredAt: isoMicros(at),
      recordedAt: isoMicros(new Date(at.getTime() + 40)),
      details: { resource, operation, resourceIds: subjectId ? [subjectId] : [], fields: ['phone', 'email'] },
      prevHash: prev,
      hash: '',
    };
    entry.hash = entryHash(entry);
    prev = entry.hash;
    const checkpoint =
      seq % BigInt(CHECKPOINT_EVERY) === 0n
        ? signCheckpoint({ origin, seq: entry.seq, hash: entry.hash, signedAt: entry.recordedAt, keyId: key.signing.keyId }, key.signing.privateKey)
        : null;
    yield { entry, checkpoint };
  }
}

/** Writes a batch as one JSON document expanded by PostgreSQL (json_populate_recordset): far cheaper than parameters per value. */
async function insertBatch(db: Kysely<Database>, batch: ChainEntry[], checkpoints: Checkpoint[]): Promise<void> {
  const rows = batch.map((e) => ({
    seq: e.seq,
    hash_version: e.hashVersion,
    event_id: e.eventId,
    event_type: e.type,
    operation: e.operation,
    source: e.source,
    actor_id: e.actorId,
    actor_roles: e.actorRoles,
    creditor_id: e.creditorId,
    purpose: e.purpose,
    outcome: e.outcome,
    client_key: e.clientKey,
    resource: e.resource,
    resource_ids: e.resourceIds,
    fields: e.fields,
    subject_id: e.subjectId,
    correlation_id: e.correlationId,
    occurred_at: e.occurredAt,
    recorded_at: e.recordedAt,
    details: e.details,
    prev_hash: e.prevHash,
    hash: e.hash,
  }));
  await sql`insert into audit_log select * from json_populate_recordset(null::audit_log, ${JSON.stringify(rows)}::json)`.execute(db);
  if (checkpoints.length === 0) return;
  const cps = checkpoints.map((c) => ({ seq: c.seq, origin: c.origin, hash: c.hash, signed_at: c.signedAt, key_id: c.keyId, signature: c.signature }));
  await sql`insert into audit_checkpoints select * from json_populate_recordset(null::audit_checkpoints, ${JSON.stringify(cps)}::json)`.execute(db);
}

/**
 * Bulk load as PostgreSQL advises: the secondary indexes (and the unique event id) dropped while the
 * rows go in, then built again from their own definitions — sorted builds instead of 10 million
 * random insertions into each.
 */
async function withoutSecondaryIndexes<T>(db: Kysely<Database>, load: () => Promise<T>): Promise<T> {
  const { rows: constraints } = await sql<{ name: string; def: string }>`select conname as name, pg_get_constraintdef(oid) as def
    from pg_constraint where conrelid = 'audit_log'::regclass and contype = 'u'`.execute(db);
  const { rows: indexes } = await sql<{ name: string; def: string }>`select indexname as name, indexdef as def from pg_indexes
    where tablename = 'audit_log' and indexname <> 'audit_log_pkey' and indexname not in (select conname from pg_constraint where conrelid = 'audit_log'::regclass)`.execute(
    db,
  );
  for (const c of constraints) await sql`alter table audit_log drop constraint ${sql.ref(c.name)}`.execute(db);
  for (const i of indexes) await sql`drop index ${sql.ref(i.name)}`.execute(db);
  const result = await load();
  await sql`set maintenance_work_mem = '512MB'`.execute(db);
  for (const i of indexes) await sql.raw(i.def).execute(db);
  for (const c of constraints) await sql`alter table audit_log add constraint ${sql.ref(c.name)} ${sql.raw(c.def)}`.execute(db);
  return result;
}

async function seed(
  db: Kysely<Database>,
  count: number,
  after: { seq: string; hash: string },
  from: number,
  to: number,
  origin: string,
  key: ReturnType<typeof checkpointKeys>,
) {
  let batch: ChainEntry[] = [];
  let checkpoints: Checkpoint[] = [];
  let last = after;
  let pending: Promise<void> = Promise.resolve();
  const started = performance.now();
  for (const { entry, checkpoint } of entries(count, BigInt(after.seq) + 1n, after.hash, from, to, origin, key)) {
    batch.push(entry);
    if (checkpoint) checkpoints.push(checkpoint);
    last = entry;
    if (batch.length === BATCH) {
      await pending;
      pending = insertBatch(db, batch, checkpoints);
      batch = [];
      checkpoints = [];
      if (Number(entry.seq) % 1_000_000 === 0) console.error(`seeded ${entry.seq} entries in ${((performance.now() - started) / 1000).toFixed(0)} s`);
    }
  }
  await pending;
  if (batch.length > 0) await insertBatch(db, batch, checkpoints);
  return last;
}

async function timed<T>(f: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t0 = performance.now();
  const value = await f();
  return { ms: Number((performance.now() - t0).toFixed(1)), value };
}

async function samples(n: number, f: (i: number) => Promise<unknown>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i += 1) out.push((await timed(() => f(i))).ms);
  return out;
}

/** The SQL of verification's page reads, without the hashing: what reading the rows alone costs. */
async function rawRead(db: Kysely<Database>, after: string, through: string): Promise<number> {
  let n = 0;
  for (let cursor = after; ; ) {
    const { rows } = await sql<{ seq: string }>`select *, to_char(occurred_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') o,
        to_char(recorded_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') r
      from audit_log where seq > ${cursor} and seq <= ${through} order by seq limit 5000`.execute(db);
    n += rows.length;
    if (rows.length < 5000) return n;
    cursor = rows[rows.length - 1]!.seq;
  }
}

export async function auditBench(count: number) {
  const key = generateCheckpointKey('bench-1');
  const keys = checkpointKeys(JSON.stringify([key.entry]));
  const serverUrl = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const natsUrl = process.env.TEST_NATS_URL ?? 'nats://127.0.0.1:4222';
  const base = await isolatedServiceConfig(serverUrl, natsUrl, `bench_audit_${Date.now().toString(36)}_${randomBytes(2).toString('hex')}`, {});
  const origin = 'pdp.audit/bench';
  const audit = await startAudit({
    ...base,
    extra: {
      checkpointKeys: keys,
      origin,
      checkpointEvery: CHECKPOINT_EVERY,
      checkpointSeconds: 86_400,
      reconcileSeconds: 3600,
      fullVerifyHours: 0,
      workHours: null,
      notifyWorkingDays: 1,
      calendar: calendarFromEnv(undefined, undefined),
    },
  });
  const db = audit.db;
  const call = async (query: string, variables: Record<string, unknown> = {}) => {
    const res = await callSubgraph(audit.url, 'audit', auditor, query, variables);
    if (res.errors) throw new Error(JSON.stringify(res.errors));
    return res.data;
  };
  // A full verification of millions of entries outlasts fetch's 5-minute header timeout: plain HTTP, no timeout.
  const longCall = async (query: string) => {
    const token = testActorSigner().sign(auditor, { requestId: randomUUID(), locale: 'RU', ip: null, userAgent: 'bench' }, 'audit');
    const body = await new Promise<string>((resolve, reject) => {
      const req = httpRequest(audit.url, { method: 'POST', headers: { 'content-type': 'application/json', [ACTOR_HEADER]: token } }, (res) => {
        let text = '';
        res
          .setEncoding('utf8')
          .on('data', (d: string) => (text += d))
          .on('end', () => resolve(text));
      });
      req.on('error', reject);
      req.end(JSON.stringify({ query }));
    });
    const parsed = JSON.parse(body) as { data?: any; errors?: unknown };
    if (parsed.errors) throw new Error(JSON.stringify(parsed.errors));
    return parsed.data;
  };
  try {
    const now = Date.now();
    const yearAgo = now - 365 * 86_400_000;
    const seeding = await timed(() =>
      withoutSecondaryIndexes(db, () => seed(db, count, { seq: '0', hash: GENESIS_HASH }, yearAgo, now - 3_600_000, origin, keys)),
    );
    await sql`vacuum analyze audit_log`.execute(db);
    await sql`vacuum analyze audit_checkpoints`.execute(db);

    const head = seeding.value.seq;
    const rawFull = await timed(() => rawRead(db, '0', head));
    const full = await timed(() => longCall('{ verifyAuditChain(full: true) { valid entriesChecked checkpointsChecked verifiedThroughSeq } }'));
    if (!full.value.verifyAuditChain.valid) throw new Error('the seeded chain does not verify');

    // 1000 more entries (the last hour), then an incremental run resumes after the last verified checkpoint.
    const more = await seed(db, 1000, seeding.value, now - 3_600_000, now, origin, keys);
    const rawNew = await timed(() => rawRead(db, head, more.seq));
    const incremental = await timed(() => call('{ verifyAuditChain { valid entriesChecked resumedFromSeq verifiedThroughSeq } }'));
    const idle = await timed(() => call('{ verifyAuditChain { valid entriesChecked } }'));

    const middle = BigInt(more.seq) / 2n;
    const pkPage = await samples(30, (i) => sql`select * from audit_log where seq > ${String(middle + BigInt(i * 1000))} order by seq limit 100`.execute(db));
    const subjectId = (await db.selectFrom('audit_log').select('subject_id').where('seq', '=', String(middle)).executeTakeFirstOrThrow()).subject_id;
    const ENTRIES =
      'query($f: AuditFilter, $a: String) { auditEntries(filter: $f, first: 100, after: $a) { edges { node { seq hash } } pageInfo { hasNextPage } } }';
    const day = (d: number) => new Date(yearAgo + d * 86_400_000).toISOString();
    const filters: Record<string, { f?: Record<string, unknown>; a?: string }> = {
      subject: { f: { subjectId } },
      actor: { f: { actorId: 'staff-421' } },
      'actor, from the middle (cursor)': { f: { actorId: 'staff-421' }, a: encodeAuditCursor(String(middle)) },
      'operation DESTROY (rare)': { f: { operation: 'DESTROY' } },
      'source consents': { f: { source: 'consents' } },
      'a day in the middle of the year': { f: { from: day(180), to: day(181) } },
      'a day, actor and operation': { f: { from: day(180), to: day(181), actorId: 'staff-421', operation: 'ACCESS' } },
      'no filter, from the middle (cursor)': { a: encodeAuditCursor(String(middle)) },
    };
    const search: Record<string, ReturnType<typeof stats>> = {};
    for (const [name, { f, a }] of Object.entries(filters)) {
      await call(ENTRIES, { f, a }); // warm
      const latencies = await samples(30, () => call(ENTRIES, { f, a }));
      search[name] = stats(latencies, latencies.reduce((s, x) => s + x, 0) / 1000);
    }
    const baseline = stats(pkPage, pkPage.reduce((s, x) => s + x, 0) / 1000);
    const size = await sql<{
      table: string;
      index: string;
    }>`select pg_size_pretty(pg_table_size('audit_log')) as table, pg_size_pretty(pg_indexes_size('audit_log')) as index`.execute(db);
    return {
      scenario: 'audit',
      entries: Number(more.seq),
      checkpoints: Math.floor(Number(more.seq) / CHECKPOINT_EVERY),
      storage: size.rows[0],
      seedSeconds: Number((seeding.ms / 1000).toFixed(1)),
      verifyFull: {
        ms: full.ms,
        entriesChecked: full.value.verifyAuditChain.entriesChecked,
        perSecond: Math.round(full.value.verifyAuditChain.entriesChecked / (full.ms / 1000)),
        baselineReadMs: rawFull.ms,
        ratio: Number((full.ms / rawFull.ms).toFixed(2)),
      },
      verifyIncremental: {
        ms: incremental.ms,
        entriesChecked: incremental.value.verifyAuditChain.entriesChecked,
        resumedFromSeq: incremental.value.verifyAuditChain.resumedFromSeq,
        baselineReadMs: rawNew.ms,
        ratio: Number((incremental.ms / rawNew.ms).toFixed(2)),
        nothingNewMs: idle.ms,
      },
      auditEntries: {
        baselinePkPage100: baseline,
        byFilter: search,
        p50Ratios: Object.fromEntries(Object.entries(search).map(([k, s]) => [k, Number((s.p50 / baseline.p50).toFixed(1))])),
      },
    };
  } finally {
    await audit.stop();
    const { dropRun } = await import('@pdp/tests/support/system');
    await dropRun(serverUrl, natsUrl, base.eventsPrefix);
  }
}
