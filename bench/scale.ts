/**
 * bench/scale: the everyday reads at 10k rows and at a million subjects, two million appeals and ten
 * million audit entries (issue 11, item 3), each through the gateway next to the statements the
 * services issue run directly with pg, in the same run:
 *   - `subjectByIin(iin)` (the IIN's blind index),
 *   - `subject(id) { appeals }` (subjects by id, appeals by subject),
 *   - a worklist page `appeals(filter: {status: [IN_PROGRESS]}, first: 50)`,
 *   - an `auditEntries(filter: {actorId}, first: 50)` page of a busy operator.
 * Target: at the large size within 1.2× of the latency at 10k rows.
 *
 * The measured subject and its three appeals come through the public form (so their IIN, blind index
 * and ciphertexts are the services' own); the rest is seeded straight into the databases with SQL:
 * subjects with the template's ciphertext and distinct blind indexes, appeals as bench/worklist seeds
 * them (pointing at those subjects), audit entries of a year of activity by 40 operators. The seeded
 * audit entries are well-formed but not a valid chain (bench/audit seeds and verifies a valid one;
 * here only the search is timed). As in bench/worklist the 10k tables are copied aside, the same
 * tables grown, and every query measured in chunks alternating the sizes, the tables swapped in by
 * renaming.
 *
 * `npm run bench -- scale [requests per query and size] [concurrency]`;
 * SCALE_SIZES=subjects,appeals,audit (default 1000000,2000000,10000000).
 */
import { kazakhstanToday } from '@pdp/shared';
import { graphql } from '@pdp/tests/support/client';
import { SUBMIT, form } from '@pdp/tests/support/intake';
import { makeIin, eventually } from '@pdp/shared/testing';
import { CompiledQuery, Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import * as worklistRepo from '../services/appeals/src/db/worklist.repository';
import type { Database as AppealsDb } from '../services/appeals/src/db/tables';
import { OPEN_STATUSES } from '../services/appeals/src/domain/appeal';
import type { Database as AuditDb } from '../services/audit/src/db/tables';
import { searchEntries } from '../services/audit/src/db/entries.repository';
import { benchSystem } from './support';
import {
  Results,
  again,
  alternating,
  ciphertexts,
  grow,
  measure,
  openConnections,
  planFigures,
  progress as log,
  quiesce,
  retryingSlots,
  setAside,
  subjectId,
  swapper,
  withoutSecondaryIndexes,
  type Size,
} from './worklist';

const SMALL = 10_000;
const [SUBJECTS, APPEALS, AUDIT] = (process.env.SCALE_SIZES ?? '1000000,2000000,10000000').split(',').map(Number) as [number, number, number];
const PAGE = 50;
const BATCH = 500_000;
/** Direct statements measured per gateway request (they are a hundred times cheaper). */
const SQL_SAMPLES = 20;
const ACTORS = 40;
const BUSY_ACTOR = 'operator-7';
const progress = (what: string) => log(what, 'scale');

const Q = {
  byIin: `query($iin: String!) { subjectByIin(iin: $iin) { id status } }`,
  subject: `query($id: ID!) { subject(id: $id) { id status appeals { id kind status deadline } } }`,
  worklist: `query($first: Int) { appeals(filter: { status: [IN_PROGRESS] }, first: $first) { pageInfo { hasNextPage endCursor } edges { node { id reference status } } } }`,
  audit: `query($actor: String!, $first: Int) { auditEntries(filter: { actorId: $actor }, first: $first) { pageInfo { hasNextPage } edges { node { seq type } } } }`,
};

type Dbs = { subjects: Kysely<any>; appeals: Kysely<AppealsDb>; audit: Kysely<AuditDb> };

export async function scaleBench(count: number, concurrency: number) {
  const system = await benchSystem('scale');
  const pools = Object.fromEntries(
    (['subjects', 'appeals', 'audit'] as const).map((name) => {
      const pool = new pg.Pool({
        connectionString: system.databaseUrls[name],
        max: Math.max(2, Math.ceil(concurrency / 2)),
        idleTimeoutMillis: 0,
        application_name: 'bench-direct',
      });
      pool.on('error', () => undefined);
      return [name, pool];
    }),
  ) as Record<keyof Dbs, pg.Pool>;
  const dbs: Dbs = {
    subjects: new Kysely<any>({ dialect: new PostgresDialect({ pool: pools.subjects }) }),
    appeals: new Kysely<AppealsDb>({ dialect: new PostgresDialect({ pool: pools.appeals }) }),
    audit: new Kysely<AuditDb>({ dialect: new PostgresDialect({ pool: pools.audit }) }),
  };
  try {
    for (const pool of Object.values(pools)) await openConnections(pool, 2);
    const t1 = new Date();
    const t0 = new Date(t1.getTime() - 365 * 86_400_000);

    // The audit entries first, while the recorder is stopped: the seeded year sits below what the
    // platform records from now on, so `seq` and `recorded_at` grow together as the search expects.
    // The 10k are the newest of the year; the growth fills the seqs below them.
    await system.stopService('audit');
    await seedAudit(dbs.audit, AUDIT - SMALL + 1, AUDIT, t0, t1);
    await sql`select setval(pg_get_serial_sequence('audit_log', 'seq'), ${AUDIT})`.execute(dbs.audit);
    await system.startService('audit');

    // The measured subject: three appeals through the public form.
    const iin = makeIin('1979-03-14', 'F', 4242);
    const template = await ciphertexts(system, dbs.appeals);
    const appealIds: string[] = [];
    for (const kind of ['APPEAL', 'COMPLAINT', 'SCHEDULE_REQUEST']) {
      const res = await again(async () => {
        const r = await graphql(system.url, SUBMIT, { input: form({ iin, kind }) });
        if (r.errors) throw new Error(JSON.stringify(r.errors));
        return r;
      });
      appealIds.push(res.data.submitAppeal.appeal.id);
    }
    const subject = await eventually(
      async () => {
        const rows = await dbs.appeals.selectFrom('appeals').select('subject_id').where('id', 'in', appealIds).execute();
        return rows.length === 3 && rows.every((r) => r.subject_id && r.subject_id === rows[0]!.subject_id) ? rows[0]!.subject_id! : null;
      },
      30_000,
      'the three appeals linked to one subject',
    );
    const { iin_bidx: bidx, iin_enc: iinEnc } = await dbs.subjects
      .selectFrom('subjects')
      .select(['iin_bidx', 'iin_enc'])
      .where('id', '=', subject)
      .executeTakeFirstOrThrow();

    // The 10k of each.
    let t = performance.now();
    await seedSubjects(dbs.subjects, 0, SMALL - (await countRows(dbs.subjects, 'subjects')), iinEnc);
    const appealsSmall = await grow(dbs.appeals, await countRows(dbs.appeals, 'appeals'), SMALL, t0, t1, template, SUBJECTS);
    for (const [db, tables] of aside(dbs)) await setAside(db, tables);
    const seedSmall = (performance.now() - t) / 1000;
    progress(`10k seeded and copied aside in ${seedSmall.toFixed(0)} s (${appealsSmall} appeals)`);

    // Grown.
    t = performance.now();
    await seedSubjects(dbs.subjects, SMALL, SUBJECTS - (await countRows(dbs.subjects, 'subjects')), iinEnc);
    progress(`subjects: ${await countRows(dbs.subjects, 'subjects')}`);
    await grow(dbs.appeals, await countRows(dbs.appeals, 'appeals'), APPEALS, t0, t1, template, SUBJECTS);
    progress(`appeals: ${await countRows(dbs.appeals, 'appeals')}`);
    await system.stopService('audit');
    await withoutSecondaryIndexes(dbs.audit, ['audit_log'], () =>
      seedAudit(dbs.audit, 1, AUDIT - SMALL, t0, new Date(t0.getTime() + (t1.getTime() - t0.getTime()) * (1 - SMALL / AUDIT))),
    );
    await sql`vacuum (analyze) audit_log`.execute(dbs.audit);
    await system.startService('audit');
    const seedLarge = (performance.now() - t) / 1000;
    progress(`audit: ${await countRows(dbs.audit, 'audit_log')}; grown in ${seedLarge.toFixed(0)} s`);

    const swaps = aside(dbs).map(([db, tables]) => swapper(db, tables));
    const show = async (size: Size) => {
      for (const s of swaps) await s.show(size);
    };

    const dpo = await system.tokenFor(['DPO'], { sub: 'dpo-1' });
    const operator = await system.tokenFor(['OPERATOR'], { sub: 'operator-1' });
    const auditor = await system.tokenFor(['AUDITOR'], { sub: 'auditor-1' });
    const call = async (token: string, query: string, variables: Record<string, unknown>) => {
      const res = await graphql(system.url, query, variables, { token });
      if (res.errors) throw new Error(JSON.stringify(res.errors).slice(0, 300));
      return res.data;
    };
    const statements = await captureStatements(pools, subject, bidx);
    const direct: Record<string, Array<{ pool: pg.Pool; statement: CompiledQuery }>> = {
      byIin: [{ pool: pools.subjects, statement: statements.byIin }],
      subject: [
        { pool: pools.subjects, statement: statements.subjectById },
        { pool: pools.appeals, statement: statements.appealsOfSubject },
      ],
      worklist: [{ pool: pools.appeals, statement: statements.worklist }],
      audit: [{ pool: pools.audit, statement: statements.audit }],
    };
    const gateway: Record<string, () => Promise<void>> = {
      byIin: async () => expect((await call(dpo, Q.byIin, { iin })).subjectByIin?.id === subject, 'subjectByIin'),
      subject: async () => expect((await call(dpo, Q.subject, { id: subject })).subject?.appeals.length === 3, 'subject.appeals'),
      worklist: async () => expect((await call(operator, Q.worklist, { first: PAGE })).appeals.edges.length === PAGE, 'worklist page'),
      audit: async () => expect((await call(auditor, Q.audit, { actor: BUSY_ACTOR, first: PAGE })).auditEntries.edges.length === PAGE, 'audit page'),
    };

    const o = { count: Math.ceil(count / 2), concurrency };
    const results = { small: new Results(), large: new Results() };
    const plans = { small: {}, large: {} } as Record<Size, Record<string, string[]>>;
    const shapes = {} as Record<Size, Record<string, number>>;
    for (const size of ['small', 'large'] as const) {
      await show(size);
      shapes[size] = {
        subjects: await countRows(dbs.subjects, 'subjects'),
        appeals: await countRows(dbs.appeals, 'appeals'),
        auditEntries: await countRows(dbs.audit, 'audit_log'),
      };
    }
    for (const name of Object.keys(gateway)) {
      progress(name);
      await alternating(async (size) => {
        await show(size);
        // Twenty times the gateway's samples for the statements themselves: 100 of them took 30 ms,
        // so one hiccup of the machine moved their p50 by a fifth.
        const run = await measure({ ...o, count: o.count * SQL_SAMPLES }, async () => {
          for (const { pool, statement } of direct[name]!) {
            const res = await pool.query(statement.sql, statement.parameters as unknown[]);
            if (res.rowCount === 0) throw new Error(`${name}: no rows`);
          }
        });
        if (!plans[size][name]) {
          const figures = { executionMs: 0, sharedBuffers: 0, tempWritten: 0 };
          for (const [i, { pool, statement }] of direct[name]!.entries()) {
            const { rows } = await pool.query(`explain (analyze, buffers) ${statement.sql}`, statement.parameters as unknown[]);
            const plan = rows.map((r: Record<string, string>) => r['QUERY PLAN']!);
            plans[size][`${name}.${i}`] = [statement.sql, ...plan];
            const f = planFigures(plan);
            figures.executionMs += f.executionMs;
            figures.sharedBuffers += f.sharedBuffers;
            figures.tempWritten += f.tempWritten;
          }
          plans[size][name] = [];
          results[size].server(`${name}.sql`, figures);
        }
        results[size].add(`${name}.sql`, 'sql', run);
        results[size].add(`${name}.gateway`, 'gateway', await measure(o, gateway[name]!));
        await quiesce(dbs.appeals);
      });
    }
    await show('large');

    const [a, b] = [results.small.final(), results.large.final()];
    const ratio = (x: number, y: number) => Number((x / y).toFixed(2));
    const ratios = Object.fromEntries(
      Object.keys(b).map((key) => {
        const [x, y] = [a[key]!, b[key]!];
        const p50 = ratio(y.p50, x.p50);
        const p99 = ratio(y.p99, x.p99);
        const server =
          x.server && y.server
            ? { executionMs: ratio(y.server.executionMs, x.server.executionMs), sharedBuffers: ratio(y.server.sharedBuffers, x.server.sharedBuffers) }
            : {};
        return [key, { p50, p99, targetMet: p50 <= 1.2 && p99 <= 1.2, ...server }];
      }),
    );
    return {
      scenario: 'scale',
      requestsPerQueryAndSize: count,
      concurrency,
      queries: Q,
      target: 'p50 and p99 at the large size within 1.2× of the small',
      seedSeconds: { small: Number(seedSmall.toFixed(1)), large: Number(seedLarge.toFixed(1)) },
      sizes: { small: shapes.small, large: shapes.large },
      ratios,
      results: { small: a, large: b },
      plans: { small: plans.small, large: plans.large },
    };
  } finally {
    for (const db of Object.values(dbs)) await db.destroy();
    await retryingSlots(() => system.destroy());
  }
}

function expect(ok: boolean, what: string): void {
  if (!ok) throw new Error(`unexpected answer: ${what}`);
}

/** The tables that differ between the sizes, per database (children of a subject that the reads touch stay as they are). */
function aside(dbs: Dbs): Array<[Kysely<any>, string[]]> {
  return [
    [dbs.subjects, ['subjects', 'subject_categories']],
    [dbs.appeals, ['appeals', 'transfer_consents']],
    [dbs.audit, ['audit_log']],
  ];
}

async function countRows(db: Kysely<any>, table: string): Promise<number> {
  const { rows } = await sql<{ n: string }>`select count(*) as n from ${sql.table(table)}`.execute(db);
  return Number(rows[0]!.n);
}

/**
 * `n` subjects numbered from `from` (their ids those bench/worklist's appeals point at), each with the
 * measured subject's IIN ciphertext, a distinct blind index and the category APPLICANT.
 */
async function seedSubjects(db: Kysely<any>, from: number, n: number, iinEnc: string | null): Promise<void> {
  if (n <= 0) return;
  const load = async () => {
    for (let lo = from; lo < from + n; lo += BATCH) {
      const hi = Math.min(from + n, lo + BATCH) - 1;
      await sql`with ins as (
          insert into subjects (id, status, iin_enc, iin_bidx, created_at, updated_at)
          select ${subjectId(sql`k`)}, 'ACTIVE', ${iinEnc}, encode(sha256(('bench-iin-' || k)::bytea), 'hex'), now(), now()
          from generate_series(${lo}::int, ${hi}::int) k
          on conflict do nothing
          returning id)
        insert into subject_categories (subject_id, category) select id, 'APPLICANT' from ins`.execute(db);
    }
  };
  if (n >= BATCH) await withoutSecondaryIndexes(db, ['subjects', 'subject_categories'], load);
  else await load();
  for (const table of ['subjects', 'subject_categories']) await sql`vacuum (analyze) ${sql.table(table)}`.execute(db);
}

/**
 * Audit entries with seq in [fromSeq, toSeq], recorded evenly over [t0, t1]: mostly reads, some
 * intake and lifecycle, a few refusals, by 40 operators, about subjects of the seeded pool.
 */
async function seedAudit(db: Kysely<AuditDb>, fromSeq: number, toSeq: number, t0: Date, t1: Date): Promise<void> {
  const n = toSeq - fromSeq + 1;
  if (n <= 0) return;
  const step = (t1.getTime() - t0.getTime()) / 1000 / n;
  const batches: Array<[number, number]> = [];
  for (let lo = fromSeq; lo <= toSeq; lo += BATCH) batches.push([lo, Math.min(toSeq, lo + BATCH - 1)]);
  // Two batches at a time, on two connections: PostgreSQL builds rows on both cores (one at a time
  // left one idle for the four minutes 10M entries take). The seq ranges are disjoint.
  const next = async (): Promise<void> => {
    const batch = batches.shift();
    if (!batch) return;
    await insertAuditBatch(db, batch[0], batch[1], fromSeq, step, t0);
    return next();
  };
  await Promise.all([next(), next()]);
}

async function insertAuditBatch(db: Kysely<AuditDb>, lo: number, hi: number, fromSeq: number, step: number, t0: Date): Promise<void> {
  await sql`insert into audit_log (seq, hash_version, event_id, event_type, operation, source, actor_id, actor_roles, creditor_id, purpose, outcome,
                                     client_key, resource, resource_ids, fields, subject_id, correlation_id, occurred_at, recorded_at, details, prev_hash, hash)
      select s, 2, gen_random_uuid(),
             case when r < 80 then 'pd.accessed' when r < 88 then 'appeal.submitted'
                  when r < 95 then 'appeal.status_changed' when r < 98 then 'access.denied' when r < 99 then 'subject.blocked' else 'erasure.receipt' end,
             case when r < 80 then 'ACCESS' when r < 88 then 'COLLECT' when r < 95 then 'MODIFY' when r < 98 then 'DENIED' when r < 99 then 'BLOCK' else 'DESTROY' end,
             case when r < 40 then 'appeals' when r < 65 then 'subjects' when r < 80 then 'consents' when r < 95 then 'appeals' when r < 99 then 'subjects' else 'appeals' end,
             'operator-' || (s % ${ACTORS}), '["OPERATOR"]'::jsonb, null, 'APPEALS', case when r between 95 and 97 then 'DENIED' else 'ALLOWED' end,
             null, 'appeal', jsonb_build_array(gen_random_uuid()), '["status"]'::jsonb,
             ${subjectId(sql`(s * 7919) % ${SUBJECTS}`)}, null, at, at, '{}'::jsonb,
             encode(sha256(('bench-' || (s - 1))::bytea), 'hex'), encode(sha256(('bench-' || s)::bytea), 'hex')
      from (select s, (s * 37) % 100 as r, ${t0.toISOString()}::timestamptz + ((s - ${fromSeq}::bigint) * ${step}::float8) * interval '1 second' as at
            from generate_series(${lo}::bigint, ${hi}::bigint) s) g`.execute(db);
}

/**
 * The statements the services issue for these reads: the worklist's and the audit search's captured
 * from kysely as compiled, by calling the repository functions the resolvers call; the lookups by key
 * as the loaders issue them.
 */
async function captureStatements(pools: Record<keyof Dbs, pg.Pool>, subject: string, bidx: string | null) {
  const captured: CompiledQuery[] = [];
  // Over the bench's pools (never destroyed here: that would end them).
  const logging = <T>(pool: pg.Pool) => new Kysely<T>({ dialect: new PostgresDialect({ pool }), log: (e) => void captured.push(e.query) });
  const take = async (run: () => Promise<unknown>) => {
    captured.length = 0;
    await run();
    if (captured.length !== 1) throw new Error(`expected one statement, got ${captured.length}`);
    return captured[0]!;
  };
  const page = { after: null, limit: PAGE, withTotal: false, hideBlocked: true, today: kazakhstanToday(), openStatuses: OPEN_STATUSES };
  return {
    byIin: CompiledQuery.raw('select * from subjects where iin_bidx = $1', [bidx]),
    subjectById: CompiledQuery.raw('select * from subjects where id = $1', [subject]),
    appealsOfSubject: CompiledQuery.raw('select * from appeals where subject_id = $1 and depersonalized_at is null order by submitted_at', [subject]),
    worklist: await take(() => worklistRepo.worklistPage(logging<AppealsDb>(pools.appeals), { status: ['IN_PROGRESS'] }, page)),
    audit: await take(() => searchEntries(logging<AuditDb>(pools.audit), { actorId: BUSY_ACTOR, limit: PAGE + 1 })),
  };
}
