import { randomUUID } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import { jsonArrayFrom } from 'kysely/helpers/postgres';
import type { Category, SubjectRecord, SubjectStatus } from '../domain/subject';
import type { Database } from './tables';

type Db = Kysely<Database> | Transaction<Database>;

export interface Registration {
  iinBidx: string;
  iinEncrypted: string;
  category: Category;
  source: { code: string; reference: string };
  purpose: { code: string; reference: string };
}

/**
 * Finds the live subject with this blind index or registers a new one, then adds the category,
 * source and purpose of this collection. Safe under concurrency: the unique blind index decides.
 */
export async function findOrRegisterSubject(trx: Transaction<Database>, reg: Registration): Promise<{ id: string; created: boolean }> {
  const inserted = await trx
    .insertInto('subjects')
    .values({ id: randomUUID(), status: 'ACTIVE', iin_enc: reg.iinEncrypted, iin_bidx: reg.iinBidx })
    .onConflict((oc) => oc.column('iin_bidx').where('iin_bidx', 'is not', null).doNothing())
    .returning('id')
    .executeTakeFirst();
  const id =
    inserted?.id ??
    (await trx.selectFrom('subjects').select('id').where('iin_bidx', '=', reg.iinBidx).executeTakeFirstOrThrow()).id;

  await trx
    .insertInto('subject_categories')
    .values({ subject_id: id, category: reg.category })
    .onConflict((oc) => oc.columns(['subject_id', 'category']).doNothing())
    .execute();
  await trx.insertInto('subject_sources').values({ subject_id: id, code: reg.source.code, reference: reg.source.reference }).execute();
  await trx
    .insertInto('subject_purposes')
    .values({ subject_id: id, code: reg.purpose.code, reference: reg.purpose.reference, state: 'ACTIVE', achieved_at: null })
    .onConflict((oc) => oc.columns(['subject_id', 'code', 'reference']).doNothing())
    .execute();
  return { id, created: inserted !== undefined };
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
        eb
          .selectFrom('subject_sources as o')
          .select(['o.code', 'o.reference', 'o.collected_at'])
          .whereRef('o.subject_id', '=', 's.id')
          .orderBy('o.id'),
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
