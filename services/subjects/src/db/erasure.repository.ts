import { UUID_PATTERN, type CursorKey } from '@pdp/shared';
import { sql, type Kysely, type Selectable, type Transaction } from 'kysely';
import type { ErasureActStatus, ErasureMethod } from '../domain/lifecycle';
import type { SubjectStatus } from '../domain/subject';
import { afterKey } from './pages';
import { eraseRegistrations } from './registration.repository';
import type { Database, ErasureActsTable } from './tables';

/** Erasure acts (4.6, 6.1.4): proposal, decision, the holders' receipts, the erasure itself and the retention term. */

type Db = Kysely<Database> | Transaction<Database>;

export type ErasureActRow = Selectable<ErasureActsTable>;

export interface NewAct {
  id: string;
  subjectId: string;
  method: ErasureMethod;
  grounds: string;
  automatic: boolean;
  proposedBy: string;
}

/** Inserts a proposed act; returns false when the subject already has an open act. */
export async function insertAct(trx: Db, act: NewAct): Promise<boolean> {
  const row = await trx
    .insertInto('erasure_acts')
    .values({
      id: act.id,
      subject_id: act.subjectId,
      method: act.method,
      status: 'PROPOSED',
      grounds: act.grounds,
      automatic: act.automatic,
      proposed_by: act.proposedBy,
      decided_by: null,
      decided_at: null,
      decision_note: null,
      completed_at: null,
    })
    .onConflict((oc) => oc.column('subject_id').where('status', 'in', ['PROPOSED', 'APPROVED']).doNothing())
    .returning('id')
    .executeTakeFirst();
  return row !== undefined;
}

export async function lockAct(trx: Transaction<Database>, id: string): Promise<ErasureActRow | undefined> {
  return trx.selectFrom('erasure_acts').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
}

export async function decideAct(trx: Db, id: string, status: ErasureActStatus, by: string, note: string | null, services: string[]): Promise<void> {
  await trx
    .updateTable('erasure_acts')
    .set({ status, decided_by: by, decided_at: new Date(), decision_note: note, services: JSON.stringify(services) as unknown as string[] })
    .where('id', '=', id)
    .execute();
}

export async function actsByIds(db: Db, ids: readonly string[]): Promise<ErasureActRow[]> {
  if (ids.length === 0) return [];
  return db
    .selectFrom('erasure_acts')
    .selectAll()
    .where('id', 'in', [...ids])
    .execute();
}

export async function actsOfSubjects(db: Db, subjectIds: readonly string[]): Promise<ErasureActRow[]> {
  if (subjectIds.length === 0) return [];
  return db
    .selectFrom('erasure_acts')
    .selectAll()
    .where('subject_id', 'in', [...subjectIds])
    .orderBy('proposed_at')
    .execute();
}

/** A page of erasure acts, oldest proposal first, after the cursor's (proposed_at, id). */
export async function actsPage(
  db: Db,
  filter: { status: ErasureActStatus | null; subjectId: string | null },
  after: CursorKey | null,
  limit: number,
): Promise<ErasureActRow[]> {
  let q = db.selectFrom('erasure_acts').selectAll().orderBy('proposed_at').orderBy('id').limit(limit);
  if (filter.status) q = q.where('status', '=', filter.status);
  if (filter.subjectId) q = q.where('subject_id', '=', filter.subjectId);
  if (after) q = q.where(afterKey('erasure_acts', 'proposed_at', after));
  return q.execute();
}

export async function receiptsOf(db: Db, actIds: readonly string[]) {
  if (actIds.length === 0) return [];
  return db
    .selectFrom('erasure_receipts')
    .selectAll()
    .where('act_id', 'in', [...actIds])
    .execute();
}

export async function insertErasureReceipt(trx: Db, actId: string, service: string, at: Date): Promise<void> {
  await trx
    .insertInto('erasure_receipts')
    .values({ act_id: actId, service, completed_at: at })
    .onConflict((oc) => oc.columns(['act_id', 'service']).doNothing())
    .execute();
}

export async function completeAct(trx: Db, id: string): Promise<void> {
  await trx.updateTable('erasure_acts').set({ status: 'COMPLETED', completed_at: new Date() }).where('id', '=', id).execute();
}

/**
 * Erasure in the subjects database. DESTROY removes every row about the person and leaves a
 * tombstone (id and status only). DEPERSONALIZE removes the IIN, its blind index, every link to
 * appeals and all staff text, keeping categories and purpose codes for statistics.
 */
export async function eraseSubjectData(trx: Db, subjectId: string, method: ErasureMethod): Promise<void> {
  const status: SubjectStatus = method === 'DESTROY' ? 'DESTROYED' : 'DEPERSONALIZED';
  await trx.updateTable('subjects').set({ status, iin_enc: null, iin_bidx: null, updated_at: new Date() }).where('id', '=', subjectId).execute();
  await trx.deleteFrom('blocks').where('subject_id', '=', subjectId).execute();
  await trx.deleteFrom('rectification_requests').where('subject_id', '=', subjectId).execute();
  await trx.deleteFrom('block_receipts').where('subject_id', '=', subjectId).execute();
  await eraseRegistrations(trx, subjectId);
  if (method === 'DESTROY') {
    await trx.deleteFrom('subject_sources').where('subject_id', '=', subjectId).execute();
    await trx.deleteFrom('subject_purposes').where('subject_id', '=', subjectId).execute();
    await trx.deleteFrom('subject_categories').where('subject_id', '=', subjectId).execute();
  } else {
    await trx.updateTable('subject_sources').set({ reference: null }).where('subject_id', '=', subjectId).execute();
    await trx.updateTable('subject_purposes').set({ reference: null }).where('subject_id', '=', subjectId).execute();
  }
}

/**
 * What hand-offs of the subject's data may exist, by resource id: the rectification requests (a
 * corrected value handed to appeals) and the appeals this subject came from (the identity handed to
 * subjects, the evidence to consents), read before erasure removes them.
 */
export async function handoffResourcesOf(db: Db, subjectId: string): Promise<string[]> {
  const { rows } = await sql<{ id: string }>`
    select id::text from rectification_requests where subject_id = ${subjectId}
    union select reference from subject_sources where subject_id = ${subjectId} and reference is not null
    union select reference from subject_purposes where subject_id = ${subjectId} and reference is not null`.execute(db);
  // References are appeal ids for form sources; anything else cannot name a hand-off.
  return rows.map((r) => r.id).filter((id) => UUID_PATTERN.test(id));
}

/**
 * Live subjects whose purposes are all achieved, the last one at least `retentionDays` ago, and
 * that have no open erasure act: they are due for erasure (4.6).
 */
export async function subjectsDueForErasure(db: Db, retentionDays: number, limit: number): Promise<string[]> {
  const rows = await db
    .selectFrom('subjects as s')
    .innerJoin('subject_purposes as p', 'p.subject_id', 's.id')
    .select('s.id')
    .where('s.status', 'in', ['ACTIVE'])
    .where((eb) =>
      eb.not(
        eb.exists(eb.selectFrom('erasure_acts as a').select('a.id').whereRef('a.subject_id', '=', 's.id').where('a.status', 'in', ['PROPOSED', 'APPROVED'])),
      ),
    )
    .groupBy('s.id')
    .having((eb) => eb.fn.countAll(), '=', sql<number>`count(*) filter (where p.state = 'ACHIEVED')`)
    .having(sql<Date>`max(p.achieved_at)`, '<=', sql<Date>`now() - make_interval(days => ${retentionDays})`)
    .limit(limit)
    .execute();
  return rows.map((r) => r.id);
}
