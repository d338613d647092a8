import type { CursorKey, PdHolder } from '@pdp/shared';
import { sql, type Kysely, type Selectable, type Transaction } from 'kysely';
import type { ErasureActStatus, ErasureMethod, RectificationStatus } from '../domain/lifecycle';
import type { SubjectStatus } from '../domain/subject';
import type { Database, ErasureActsTable, RectificationRequestsTable } from './tables';
import { eraseRegistrations } from './registration.repository';

type Db = Kysely<Database> | Transaction<Database>;

export type ErasureActRow = Selectable<ErasureActsTable>;
export type RectificationRow = Selectable<RectificationRequestsTable>;

/** Locks the subject row for a status change; null when there is no such subject. */
export async function lockSubject(trx: Transaction<Database>, id: string): Promise<{ id: string; status: SubjectStatus } | null> {
  const row = await trx.selectFrom('subjects').select(['id', 'status']).where('id', '=', id).forUpdate().executeTakeFirst();
  return row ? { id: row.id, status: row.status } : null;
}

export async function openBlock(trx: Db, subjectId: string, reason: string, by: string): Promise<void> {
  await trx
    .insertInto('blocks')
    .values({ subject_id: subjectId, reason, blocked_by: by, unblock_reason: null, unblocked_by: null, unblocked_at: null })
    .execute();
}

export async function closeBlock(trx: Db, subjectId: string, reason: string, by: string): Promise<void> {
  await trx
    .updateTable('blocks')
    .set({ unblock_reason: reason, unblocked_by: by, unblocked_at: new Date() })
    .where('subject_id', '=', subjectId)
    .where('unblocked_at', 'is', null)
    .execute();
}

/** Blocks or unblocks, and numbers it: the version the events carry (see setBlocked in @pdp/shared). */
export async function setBlockStatus(trx: Db, id: string, blocked: boolean): Promise<number> {
  const row = await trx
    .updateTable('subjects')
    .set((eb) => ({ status: blocked ? 'BLOCKED' : 'ACTIVE', updated_at: new Date(), block_version: eb('block_version', '+', 1) }))
    .where('id', '=', id)
    .returning('block_version')
    .executeTakeFirstOrThrow();
  return row.block_version;
}

/**
 * Keeps the latest confirmation per holder; an older receipt never overwrites a newer one.
 * A holder's latest block state. A receipt with a version replaces only an older one (a receipt that
 * comes late changes nothing); one without (written before versions) goes by time, as it always did.
 */
export async function upsertBlockReceipt(trx: Db, subjectId: string, service: PdHolder, blocked: boolean, at: Date, version?: number): Promise<void> {
  await trx
    .insertInto('block_receipts')
    .values({ subject_id: subjectId, service, blocked, applied_at: at, version: version ?? null })
    .onConflict((oc) =>
      oc
        .columns(['subject_id', 'service'])
        .doUpdateSet({ blocked, applied_at: at, version: version ?? null })
        .where((eb) =>
          version === undefined
            ? eb('block_receipts.applied_at', '<=', at)
            : eb.or([eb('block_receipts.version', 'is', null), eb('block_receipts.version', '<', version)]),
        ),
    )
    .execute();
}

export async function blockReceiptsOf(db: Db, subjectIds: readonly string[]) {
  if (subjectIds.length === 0) return [];
  return db
    .selectFrom('block_receipts')
    .selectAll()
    .where('subject_id', 'in', [...subjectIds])
    .orderBy('service')
    .execute();
}

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

export async function decideAct(trx: Db, id: string, status: ErasureActStatus, by: string, note: string | null, services: PdHolder[]): Promise<void> {
  await trx
    .updateTable('erasure_acts')
    .set({ status, decided_by: by, decided_at: new Date(), decision_note: note, services: JSON.stringify(services) as unknown as PdHolder[] })
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

/** A page of rectification requests, oldest first (the DPO's worklist), after the cursor. */
export async function rectificationsPage(db: Db, status: RectificationStatus | null, after: CursorKey | null, limit: number): Promise<RectificationRow[]> {
  let q = db.selectFrom('rectification_requests').selectAll().orderBy('requested_at').orderBy('id').limit(limit);
  if (status) q = q.where('status', '=', status);
  if (after) q = q.where(afterKey('rectification_requests', 'requested_at', after));
  return q.execute();
}

/**
 * `(time, id) > cursor`, with the cursor row's own timestamp read back (PostgreSQL keeps
 * microseconds, a cursor's ISO text only milliseconds); the cursor's time serves if that row is gone.
 */
function afterKey(table: 'erasure_acts' | 'rectification_requests', column: 'proposed_at' | 'requested_at', after: CursorKey) {
  return sql<boolean>`(${sql.ref(column)}, id) > (coalesce((select ${sql.ref(column)} from ${sql.table(table)} where id::text = ${after.id}), ${after.at}::timestamptz), ${after.id}::uuid)`;
}

/** Every block of several subjects, oldest first: reasons, who and when (6.1.3). */
export async function blocksOf(db: Db, subjectIds: readonly string[]) {
  if (subjectIds.length === 0) return [];
  return db
    .selectFrom('blocks')
    .selectAll()
    .where('subject_id', 'in', [...subjectIds])
    .orderBy('blocked_at')
    .orderBy('id')
    .execute();
}

export async function receiptsOf(db: Db, actIds: readonly string[]) {
  if (actIds.length === 0) return [];
  return db
    .selectFrom('erasure_receipts')
    .selectAll()
    .where('act_id', 'in', [...actIds])
    .execute();
}

export async function insertErasureReceipt(trx: Db, actId: string, service: PdHolder, at: Date): Promise<void> {
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
  return rows.map((r) => r.id).filter((id) => UUID.test(id));
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

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
