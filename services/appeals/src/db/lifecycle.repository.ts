import type { Kysely, Transaction } from 'kysely';
import type { AppealStatus } from '../domain/appeal';
import type { Database } from './tables';

type Db = Kysely<Database> | Transaction<Database>;

/** DESTROY: every appeal of the subject and its history go. */
export async function destroyAppealsOf(trx: Db, subjectId: string): Promise<number> {
  const ids = (await trx.selectFrom('appeals').select('id').where('subject_id', '=', subjectId).execute()).map((r) => r.id);
  await trx
    .deleteFrom('transfer_consents')
    .where((eb) => eb.or([eb('subject_id', '=', subjectId), ...(ids.length ? [eb('appeal_id', 'in', ids)] : [])]))
    .execute();
  const res = await trx.deleteFrom('appeals').where('subject_id', '=', subjectId).executeTakeFirst();
  await trx.deleteFrom('blocked_subjects').where('subject_id', '=', subjectId).execute();
  return Number(res.numDeletedRows);
}

/** DEPERSONALIZE: contact data, reference number and the link to the subject go; kind, channel, dates and status stay. */
export async function depersonalizeAppealsOf(trx: Db, subjectId: string): Promise<number> {
  const ids = (await trx.selectFrom('appeals').select('id').where('subject_id', '=', subjectId).execute()).map((r) => r.id);
  await trx
    .deleteFrom('transfer_consents')
    .where((eb) => eb.or([eb('subject_id', '=', subjectId), ...(ids.length ? [eb('appeal_id', 'in', ids)] : [])]))
    .execute();
  if (ids.length > 0) {
    await trx.deleteFrom('contact_history').where('appeal_id', 'in', ids).execute();
    await trx
      .updateTable('appeals')
      .set({
        subject_id: null,
        reference: null,
        phone_enc: null,
        email_enc: null,
        description_enc: null,
        iin_bidx: null,
        entered_by: null,
        answer_enc: null,
        partner_response_enc: null,
        depersonalized_at: new Date(),
        updated_at: new Date(),
      })
      .where('id', 'in', ids)
      .execute();
    // Status changes stay (statistics); the notes, free text about the person, go.
    await trx.updateTable('appeal_changes').set({ note_enc: null }).where('appeal_id', 'in', ids).execute();
  }
  await trx.deleteFrom('blocked_subjects').where('subject_id', '=', subjectId).execute();
  return ids.length;
}

export type ContactColumn = 'phone_enc' | 'email_enc';

/** The subject's appeals with one contact value each, locked until the correction commits. */
export async function lockContacts(trx: Transaction<Database>, subjectId: string, column: ContactColumn): Promise<Array<{ id: string; value: string | null }>> {
  return trx
    .selectFrom('appeals')
    .select(['id', `${column} as value`])
    .where('subject_id', '=', subjectId)
    .orderBy('id')
    .forUpdate()
    .execute();
}

export interface ContactCorrection {
  appealId: string;
  /** The contact_history row keeping the previous value (its id reserved: the value is bound to it). */
  historyId: string;
  previousEnc: string | null;
  valueEnc: string;
}

/** Applies a corrected phone or e-mail to the subject's appeals, keeping the previous values. */
export async function rectifyContact(trx: Db, field: 'phone' | 'email', requestId: string, corrections: ContactCorrection[]): Promise<void> {
  if (corrections.length === 0) return;
  const column: ContactColumn = field === 'phone' ? 'phone_enc' : 'email_enc';
  await trx
    .insertInto('contact_history')
    .values(corrections.map((c) => ({ id: c.historyId, appeal_id: c.appealId, field, previous_enc: c.previousEnc, request_id: requestId })))
    .execute();
  // Each appeal its own ciphertext: a value is bound to its row.
  for (const c of corrections) {
    await trx
      .updateTable('appeals')
      .set({ [column]: c.valueEnc, updated_at: new Date() })
      .where('id', '=', c.appealId)
      .execute();
  }
}

export async function lockAppeal(trx: Transaction<Database>, id: string) {
  return trx.selectFrom('appeals').select(['id', 'status', 'subject_id']).where('id', '=', id).forUpdate().executeTakeFirst();
}

export async function setAppealStatus(trx: Db, id: string, status: AppealStatus): Promise<void> {
  await trx.updateTable('appeals').set({ status, updated_at: new Date() }).where('id', '=', id).execute();
}

export async function overdueAppeals(db: Db, today: string, statuses: AppealStatus[], limit: number) {
  return db.selectFrom('appeals').selectAll().where('status', 'in', statuses).where('deadline', '<', today).orderBy('deadline').limit(limit).execute();
}

export async function countAppealsOf(db: Db, subjectId: string): Promise<number> {
  const row = await db
    .selectFrom('appeals')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('subject_id', '=', subjectId)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** The subject's appeals, e.g. to erase the hand-offs made for them. */
export async function appealIdsOf(db: Db, subjectId: string): Promise<string[]> {
  return (await db.selectFrom('appeals').select('id').where('subject_id', '=', subjectId).execute()).map((r) => r.id);
}
