import type { Kysely, Transaction } from 'kysely';
import type { Database, ObligationRow } from './tables';

type Db = Kysely<Database> | Transaction<Database>;

export interface NewObligation {
  id: string;
  consentId: string;
  descriptionEnc: string | null;
  dueDate: string;
}

export async function insertObligations(trx: Db, obligations: NewObligation[]): Promise<void> {
  if (obligations.length === 0) return;
  await trx
    .insertInto('obligations')
    .values(
      obligations.map((o) => ({
        id: o.id,
        consent_id: o.consentId,
        description_enc: o.descriptionEnc,
        due_date: o.dueDate,
        fulfilled_at: null,
        fulfilled_by: null,
      })),
    )
    .onConflict((oc) => oc.column('id').doNothing())
    .execute();
}

/** The consent's obligations still unfulfilled, earliest due first: each forbids withdrawal (5.2). */
export async function openObligations(db: Db, consentId: string): Promise<ObligationRow[]> {
  return db
    .selectFrom('obligations')
    .selectAll()
    .where('consent_id', '=', consentId)
    .where('fulfilled_at', 'is', null)
    .orderBy('due_date')
    .orderBy('id')
    .execute();
}

export async function obligationsOf(db: Db, consentIds: readonly string[]): Promise<ObligationRow[]> {
  if (consentIds.length === 0) return [];
  return db
    .selectFrom('obligations')
    .selectAll()
    .where('consent_id', 'in', [...consentIds])
    .orderBy('due_date')
    .orderBy('id')
    .execute();
}

export async function lockObligation(trx: Transaction<Database>, id: string): Promise<ObligationRow | undefined> {
  return trx.selectFrom('obligations').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
}

export async function markFulfilled(trx: Db, id: string, by: string): Promise<ObligationRow> {
  return trx.updateTable('obligations').set({ fulfilled_at: new Date(), fulfilled_by: by }).where('id', '=', id).returningAll().executeTakeFirstOrThrow();
}
