import { sql, type Kysely, type Transaction } from 'kysely';
import { jsonArrayFrom } from 'kysely/helpers/postgres';
import type { Category, SubjectRecord, SubjectStatus } from '../domain/subject';
import type { Database } from './tables';

type Db = Kysely<Database> | Transaction<Database>;

export interface Registration {
  /** The id a new subject gets: its IIN's ciphertext is bound to it. Unused when the person is found. */
  id: string;
  iinBidx: string;
  iinEncrypted: string;
  category: Category;
  source: { code: string; reference: string };
  purpose: { code: string; reference: string };
}

/**
 * Finds the live subject with this blind index or registers a new one, and adds the category, source
 * and purpose of this collection — in one statement (the intake registers a person per submission;
 * four round trips were most of its cost). Safe under concurrency: the unique blind index decides. A
 * registration of the same IIN committed while this statement ran is not in its snapshot, so the
 * statement finds no one; it is then run again, and the next snapshot sees that subject.
 */
export async function findOrRegisterSubject(trx: Transaction<Database>, reg: Registration): Promise<{ id: string; created: boolean }> {
  for (let attempt = 0; ; attempt += 1) {
    const { rows } = await sql<{ id: string; created: boolean }>`
      with inserted as (
        insert into subjects (id, status, iin_enc, iin_bidx) values (${reg.id}, 'ACTIVE', ${reg.iinEncrypted}, ${reg.iinBidx})
        on conflict (iin_bidx) where iin_bidx is not null do nothing
        returning id
      ), found as (
        select id, true as created from inserted
        union all
        select id, false as created from subjects where iin_bidx = ${reg.iinBidx} and not exists (select 1 from inserted)
      ), category as (
        insert into subject_categories (subject_id, category) select id, ${reg.category} from found
        on conflict (subject_id, category) do nothing
      ), source as (
        insert into subject_sources (subject_id, code, reference) select id, ${reg.source.code}, ${reg.source.reference} from found
      ), purpose as (
        insert into subject_purposes (subject_id, code, reference, state, achieved_at) select id, ${reg.purpose.code}, ${reg.purpose.reference}, 'ACTIVE', null from found
        on conflict (subject_id, code, reference) do nothing
      )
      select id, created from found`.execute(trx);
    if (rows[0]) return rows[0];
    if (attempt > 0) throw new Error('subject neither registered nor found');
  }
}

/** Loads subjects with their categories, purposes and sources in one SQL query. */
export async function loadSubjects(db: Db, ids: readonly string[]): Promise<SubjectRecord[]> {
  if (ids.length === 0) return [];
  const rows = await db
    .selectFrom('subjects as s')
    .select((eb) => [
      's.id',
      's.status',
      's.iin_enc',
      's.created_at',
      jsonArrayFrom(eb.selectFrom('subject_categories as c').select('c.category').whereRef('c.subject_id', '=', 's.id').orderBy('c.category')).as('categories'),
      jsonArrayFrom(
        eb
          .selectFrom('subject_purposes as p')
          .select(['p.code', 'p.state', 'p.reference', 'p.declared_at', 'p.achieved_at'])
          .whereRef('p.subject_id', '=', 's.id')
          .orderBy('p.id'),
      ).as('purposes'),
      jsonArrayFrom(
        eb.selectFrom('subject_sources as o').select(['o.code', 'o.reference', 'o.collected_at']).whereRef('o.subject_id', '=', 's.id').orderBy('o.id'),
      ).as('sources'),
    ])
    .where('s.id', 'in', [...ids])
    .execute();
  return rows.map((r) => ({
    id: r.id,
    status: r.status as SubjectStatus,
    iinEncrypted: r.iin_enc,
    registeredAt: r.created_at.toISOString(),
    categories: r.categories.map((c) => c.category as Category),
    purposes: r.purposes.map((p) => ({
      code: p.code,
      state: p.state as 'ACTIVE' | 'ACHIEVED',
      reference: p.reference,
      declaredAt: new Date(p.declared_at).toISOString(),
      achievedAt: p.achieved_at ? new Date(p.achieved_at).toISOString() : null,
    })),
    sources: r.sources.map((o) => ({ code: o.code, reference: o.reference, collectedAt: new Date(o.collected_at).toISOString() })),
  }));
}

export async function findSubjectIdByBidx(db: Db, iinBidx: string): Promise<string | null> {
  const row = await db.selectFrom('subjects').select('id').where('iin_bidx', '=', iinBidx).executeTakeFirst();
  return row?.id ?? null;
}

/** Locks the subject row for a status change; null when there is no such subject. */
export async function lockSubject(trx: Transaction<Database>, id: string): Promise<{ id: string; status: SubjectStatus } | null> {
  const row = await trx.selectFrom('subjects').select(['id', 'status']).where('id', '=', id).forUpdate().executeTakeFirst();
  return row ? { id: row.id, status: row.status as SubjectStatus } : null;
}

/** Marks a purpose achieved (4.6) — at `at`, e.g. the day an employment ended, else now. */
export async function achievePurpose(trx: Db, subjectId: string, code: string, reference: string, at: Date = new Date()): Promise<void> {
  await trx
    .updateTable('subject_purposes')
    .set({ state: 'ACHIEVED', achieved_at: at })
    .where('subject_id', '=', subjectId)
    .where('code', '=', code)
    .where('reference', '=', reference)
    .where('state', '=', 'ACTIVE')
    .execute();
}

/** Row counts per table for the access report's list of what is held. */
export async function holdingCounts(db: Db, subjectId: string): Promise<number> {
  const { rows } = await sql<{ n: string }>`
    select (select count(*) from subject_categories where subject_id = ${subjectId})
         + (select count(*) from subject_sources where subject_id = ${subjectId})
         + (select count(*) from subject_purposes where subject_id = ${subjectId})
         + (select count(*) from blocks where subject_id = ${subjectId})
         + (select count(*) from rectification_requests where subject_id = ${subjectId})
         + (select count(*) from employments where subject_id = ${subjectId})
         + (select count(*) from contracts where subject_id = ${subjectId})
         + (select count(*) from subjects where id = ${subjectId} and iin_enc is not null) as n`.execute(db);
  return Number(rows[0]?.n ?? 0);
}
