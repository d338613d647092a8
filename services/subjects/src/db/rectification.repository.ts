import type { CursorKey } from '@pdp/shared';
import type { Kysely, Selectable, Transaction } from 'kysely';
import type { RectificationStatus } from '../domain/lifecycle';
import { afterKey } from './pages';
import type { Database, RectificationRequestsTable } from './tables';

/** Rectification requests (6.1.2): the documented corrections of a subject's data and their review. */

type Db = Kysely<Database> | Transaction<Database>;

export type RectificationRow = Selectable<RectificationRequestsTable>;

/** A page of rectification requests, oldest first (the DPO's worklist), after the cursor. */
export async function rectificationsPage(db: Db, status: RectificationStatus | null, after: CursorKey | null, limit: number): Promise<RectificationRow[]> {
  let q = db.selectFrom('rectification_requests').selectAll().orderBy('requested_at').orderBy('id').limit(limit);
  if (status) q = q.where('status', '=', status);
  if (after) q = q.where(afterKey('rectification_requests', 'requested_at', after));
  return q.execute();
}

export interface NewRectification {
  id: string;
  subjectId: string;
  field: string;
  newValueEnc: string;
  documents: string[];
  requestedBy: string;
  deadline: string;
}

export async function insertRectification(trx: Db, r: NewRectification): Promise<void> {
  await trx
    .insertInto('rectification_requests')
    .values({
      id: r.id,
      subject_id: r.subjectId,
      field: r.field,
      new_value_enc: r.newValueEnc,
      documents: JSON.stringify(r.documents) as unknown as string[],
      status: 'PENDING',
      requested_by: r.requestedBy,
      deadline: r.deadline,
      reviewed_by: null,
      reviewed_at: null,
      review_note: null,
      applied_at: null,
    })
    .execute();
}

export async function lockRectification(trx: Transaction<Database>, id: string): Promise<RectificationRow | undefined> {
  return trx.selectFrom('rectification_requests').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
}

export async function setRectificationStatus(trx: Db, id: string, status: RectificationStatus, review?: { by: string; note: string | null }): Promise<void> {
  await trx
    .updateTable('rectification_requests')
    .set({
      status,
      ...(review ? { reviewed_by: review.by, reviewed_at: new Date(), review_note: review.note } : {}),
      ...(status === 'APPLIED' ? { applied_at: new Date() } : {}),
    })
    .where('id', '=', id)
    .execute();
}

export async function rectificationsOf(db: Db, subjectIds: readonly string[]): Promise<RectificationRow[]> {
  if (subjectIds.length === 0) return [];
  return db
    .selectFrom('rectification_requests')
    .selectAll()
    .where('subject_id', 'in', [...subjectIds])
    .orderBy('requested_at')
    .execute();
}

export async function overdueRectifications(db: Db, today: string, limit: number): Promise<RectificationRow[]> {
  return db
    .selectFrom('rectification_requests')
    .selectAll()
    .where('status', 'in', ['PENDING', 'APPROVED'])
    .where('deadline', '<', today)
    .orderBy('deadline')
    .limit(limit)
    .execute();
}

/** Replaces the IIN after an approved rectification; false when another live subject has that IIN. */
export async function replaceIin(trx: Db, subjectId: string, iinEnc: string, iinBidx: string): Promise<boolean> {
  const clash = await trx.selectFrom('subjects').select('id').where('iin_bidx', '=', iinBidx).where('id', '<>', subjectId).executeTakeFirst();
  if (clash) return false;
  await trx.updateTable('subjects').set({ iin_enc: iinEnc, iin_bidx: iinBidx, updated_at: new Date() }).where('id', '=', subjectId).execute();
  return true;
}

export async function rectificationById(db: Db, id: string): Promise<RectificationRow | undefined> {
  return db.selectFrom('rectification_requests').selectAll().where('id', '=', id).executeTakeFirst();
}
