import type { Kysely, Transaction } from 'kysely';
import type { ConsentRecord, Locale } from '../domain/consent';
import type { ConsentRow, Database, TemplateRow, WithdrawalReceiptRow } from './tables';

type Db = Kysely<Database> | Transaction<Database>;

/** The version of a template in force at a moment: the one a person saw when they consented. */
export async function templateInForce(db: Db, code: string, locale: Locale, at: Date): Promise<TemplateRow | undefined> {
  return db
    .selectFrom('consent_templates')
    .selectAll()
    .where('code', '=', code)
    .where('locale', '=', locale)
    .where('effective_from', '<=', at)
    .where('both_languages', '=', true)
    .orderBy('version', 'desc')
    .limit(1)
    .executeTakeFirst();
}

export interface NewConsent {
  id: string;
  templateCode: string;
  templateVersion: number;
  locale: Locale;
  channel: string;
  givenAt: Date;
  ipEnc: string | null;
  userAgentEnc: string | null;
  documentEnc: string | null;
  enteredBy: string | null;
  appealId: string | null;
  subjectId: string | null;
  categories: string[];
  purpose: { code: string; reference: string } | null;
  granted?: boolean;
  /** The PRIVACY_POLICY version a web form showed (5.3). */
  policyVersion?: number | null;
  /** The day the paper was signed (YYYY-MM-DD). */
  signedOn?: string | null;
}

export async function insertConsent(db: Db, c: NewConsent): Promise<void> {
  await db
    .insertInto('consents')
    .values({
      id: c.id,
      subject_id: c.subjectId,
      template_code: c.templateCode,
      template_version: c.templateVersion,
      locale: c.locale,
      channel: c.channel,
      given_at: c.givenAt,
      ip_enc: c.ipEnc,
      user_agent_enc: c.userAgentEnc,
      document_enc: c.documentEnc,
      entered_by: c.enteredBy,
      appeal_id: c.appealId,
      withdrawn_at: null,
      depersonalized_at: null,
      categories: JSON.stringify(c.categories) as unknown as string[],
      purpose_code: c.purpose?.code ?? null,
      purpose_reference: c.purpose?.reference ?? null,
      granted: c.granted ?? true,
      withdrawn_by: null,
      withdrawal_reason_enc: null,
      policy_version: c.policyVersion ?? null,
      signed_on: c.signedOn ?? null,
    })
    .onConflict((oc) => oc.column('id').doNothing())
    .execute();
}

/** Sets the subject of the consent given with an appeal; returns the consent's id, if there is one. */
export async function linkConsentToSubject(db: Db, appealId: string, subjectId: string): Promise<string | null> {
  const row = await db.updateTable('consents').set({ subject_id: subjectId }).where('appeal_id', '=', appealId).returning('id').executeTakeFirst();
  return row?.id ?? null;
}

export async function consentsBySubjects(db: Db, subjectIds: readonly string[]): Promise<ConsentRecord[]> {
  if (subjectIds.length === 0) return [];
  const rows = await db
    .selectFrom('consents')
    .selectAll()
    .where('subject_id', 'in', [...subjectIds])
    .orderBy('given_at')
    .execute();
  return rows.map(toRecord);
}

export async function consentsByIds(db: Db, ids: readonly string[]): Promise<ConsentRecord[]> {
  if (ids.length === 0) return [];
  return (
    await db
      .selectFrom('consents')
      .selectAll()
      .where('id', 'in', [...ids])
      .execute()
  ).map(toRecord);
}

export function toRecord(r: ConsentRow): ConsentRecord {
  return {
    id: r.id,
    subjectId: r.subject_id,
    templateCode: r.template_code,
    templateVersion: r.template_version,
    locale: r.locale as Locale,
    channel: r.channel,
    givenAt: r.given_at.toISOString(),
    withdrawnAt: r.withdrawn_at?.toISOString() ?? null,
    withdrawnBy: r.withdrawn_by,
    withdrawalReasonEnc: r.withdrawal_reason_enc,
    appealId: r.appeal_id,
    ipEnc: r.ip_enc,
    userAgentEnc: r.user_agent_enc,
    documentEnc: r.document_enc,
    enteredBy: r.entered_by,
    categories: r.categories,
    purposeCode: r.purpose_code,
    purposeReference: r.purpose_reference,
    granted: r.granted,
    policyVersion: r.policy_version,
    signedOn: r.signed_on,
  };
}

/** DESTROY removes the consents; DEPERSONALIZE keeps template, version, language, channel and date only. */
export async function eraseConsentsOf(trx: Db, subjectId: string, method: 'DESTROY' | 'DEPERSONALIZE'): Promise<void> {
  if (method === 'DESTROY') {
    await trx.deleteFrom('consents').where('subject_id', '=', subjectId).execute();
  } else {
    const rows = await trx
      .updateTable('consents')
      .set({
        subject_id: null,
        appeal_id: null,
        ip_enc: null,
        user_agent_enc: null,
        document_enc: null,
        purpose_reference: null,
        withdrawn_by: null,
        withdrawal_reason_enc: null,
        depersonalized_at: new Date(),
      })
      .where('subject_id', '=', subjectId)
      .returning('id')
      .execute();
    // The obligations' wording may name the person; due dates and fulfilment stay for statistics.
    const ids = rows.map((r) => r.id);
    if (ids.length > 0) await trx.updateTable('obligations').set({ description_enc: null, fulfilled_by: null }).where('consent_id', 'in', ids).execute();
  }
  await trx.deleteFrom('blocked_subjects').where('subject_id', '=', subjectId).execute();
}

export async function countConsentsOf(db: Db, subjectId: string): Promise<number> {
  const row = await db
    .selectFrom('consents')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('subject_id', '=', subjectId)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Locks one consent for a change (withdrawal). */
export async function lockConsent(trx: Transaction<Database>, id: string): Promise<ConsentRow | undefined> {
  return trx.selectFrom('consents').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
}

export async function markWithdrawn(trx: Db, id: string, by: string, reasonEnc: string | null, at: Date): Promise<void> {
  await trx.updateTable('consents').set({ withdrawn_at: at, withdrawn_by: by, withdrawal_reason_enc: reasonEnc }).where('id', '=', id).execute();
}

/** The subject's consents that stand (not withdrawn) of one template, newest first. */
export async function standingOf(db: Db, subjectId: string, templateCode: string): Promise<ConsentRow[]> {
  return db
    .selectFrom('consents')
    .selectAll()
    .where('subject_id', '=', subjectId)
    .where('template_code', '=', templateCode)
    .where('withdrawn_at', 'is', null)
    .orderBy('given_at', 'desc')
    .execute();
}

/** The categories of every consent held for the subject (what a publication decision concerns). */
export async function categoriesOfSubject(db: Db, subjectId: string): Promise<string[]> {
  const rows = await db.selectFrom('consents').select('categories').where('subject_id', '=', subjectId).execute();
  return [...new Set(rows.flatMap((r) => r.categories))].sort();
}

/** The latest publication decision in force of each subject (6.1.6); absent means refused. */
export async function publicationDecisions(db: Db, subjectIds: readonly string[]): Promise<ConsentRow[]> {
  if (subjectIds.length === 0) return [];
  return db
    .selectFrom('consents')
    .selectAll()
    .distinctOn('subject_id')
    .where('subject_id', 'in', [...subjectIds])
    .where('template_code', '=', 'PUBLICATION')
    .where('withdrawn_at', 'is', null)
    .orderBy('subject_id')
    .orderBy('given_at', 'desc')
    .execute();
}

/** Withdrawal receipts of consents, one per holder that confirmed. */
export async function receiptsOf(db: Db, consentIds: readonly string[]): Promise<WithdrawalReceiptRow[]> {
  if (consentIds.length === 0) return [];
  return db
    .selectFrom('withdrawal_receipts')
    .selectAll()
    .where('consent_id', 'in', [...consentIds])
    .orderBy('service')
    .execute();
}

/** A holder's receipt; the first one counts, a redelivered one changes nothing. */
export async function insertReceipt(trx: Db, consentId: string, service: string, at: Date): Promise<void> {
  await trx
    .insertInto('withdrawal_receipts')
    .values({ consent_id: consentId, service, applied_at: at })
    .onConflict((oc) => oc.columns(['consent_id', 'service']).doNothing())
    .execute();
}
