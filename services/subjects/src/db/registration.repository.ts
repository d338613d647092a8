import type { Kysely, Transaction } from 'kysely';
import type { ContractRow, Database, EmploymentRow } from './tables';

type Db = Kysely<Database> | Transaction<Database>;

export interface NewEmployment {
  id: string;
  subjectId: string;
  consentId: string;
  fullNameEnc: string;
  positionEnc: string;
  signedAt: string;
  locale: string;
  registeredBy: string;
}

export async function insertEmployment(trx: Db, e: NewEmployment): Promise<void> {
  await trx
    .insertInto('employments')
    .values({
      id: e.id,
      subject_id: e.subjectId,
      consent_id: e.consentId,
      full_name_enc: e.fullNameEnc,
      position_enc: e.positionEnc,
      signed_at: e.signedAt,
      locale: e.locale,
      registered_by: e.registeredBy,
      ended_on: null,
      ended_by: null,
    })
    .execute();
}

/** Ends the subject's employments still running; returns their ids. */
export async function endEmployments(trx: Db, subjectId: string, endedOn: string, by: string): Promise<string[]> {
  const rows = await trx
    .updateTable('employments')
    .set({ ended_on: endedOn, ended_by: by })
    .where('subject_id', '=', subjectId)
    .where('ended_on', 'is', null)
    .returning('id')
    .execute();
  return rows.map((r) => r.id);
}

export interface NewContract {
  id: string;
  subjectId: string;
  consentId: string;
  fullNameEnc: string;
  contractNumberEnc: string;
  contractDate: string;
  consentForm: string;
  consentDate: string | null;
  locale: string;
  registeredBy: string;
}

export async function insertContract(trx: Db, c: NewContract): Promise<void> {
  await trx
    .insertInto('contracts')
    .values({
      id: c.id,
      subject_id: c.subjectId,
      consent_id: c.consentId,
      full_name_enc: c.fullNameEnc,
      contract_number_enc: c.contractNumberEnc,
      contract_date: c.contractDate,
      consent_form: c.consentForm,
      consent_date: c.consentDate,
      locale: c.locale,
      registered_by: c.registeredBy,
      ended_on: null,
      ended_by: null,
    })
    .execute();
}

/** Ends the subject's contracts still in force (CONTRACTS, 5.2); returns their ids. */
export async function endContracts(trx: Db, subjectId: string, endedOn: string, by: string): Promise<string[]> {
  const rows = await trx
    .updateTable('contracts')
    .set({ ended_on: endedOn, ended_by: by })
    .where('subject_id', '=', subjectId)
    .where('ended_on', 'is', null)
    .returning('id')
    .execute();
  return rows.map((r) => r.id);
}

export async function contractByConsent(db: Db, consentId: string): Promise<ContractRow | undefined> {
  return db.selectFrom('contracts').selectAll().where('consent_id', '=', consentId).executeTakeFirst();
}

export async function employmentsOf(db: Db, subjectIds: readonly string[]): Promise<EmploymentRow[]> {
  if (subjectIds.length === 0) return [];
  return db
    .selectFrom('employments')
    .selectAll()
    .where('subject_id', 'in', [...subjectIds])
    .orderBy('registered_at')
    .execute();
}

export async function contractsOf(db: Db, subjectIds: readonly string[]): Promise<ContractRow[]> {
  if (subjectIds.length === 0) return [];
  return db
    .selectFrom('contracts')
    .selectAll()
    .where('subject_id', 'in', [...subjectIds])
    .orderBy('registered_at')
    .execute();
}

/**
 * Erasure of what HR and CONTRACTS keep. Both methods remove the rows: names, positions and contract
 * numbers identify the person, and the links to the consents would re-link what depersonalization
 * cuts; the categories and purpose codes kept for statistics stay in the registry.
 */
export async function eraseRegistrations(trx: Db, subjectId: string): Promise<void> {
  await trx.deleteFrom('employments').where('subject_id', '=', subjectId).execute();
  await trx.deleteFrom('contracts').where('subject_id', '=', subjectId).execute();
}
