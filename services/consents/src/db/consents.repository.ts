import type { Kysely, Transaction } from 'kysely';
import type { ConsentRecord, Locale } from '../domain/consent';
import type { ConsentRow, Database, TemplateRow } from './tables';

type Db = Kysely<Database> | Transaction<Database>;

/** The version of a template in force at a moment: the one a person saw when they consented. */
export async function templateInForce(db: Db, code: string, locale: Locale, at: Date): Promise<TemplateRow | undefined> {
  return db
    .selectFrom('consent_templates')
    .selectAll()
    .where('code', '=', code)
    .where('locale', '=', locale)
    .where('effective_from', '<=', at)
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
    })
    .execute();
}

/** Sets the subject of the consent given with an appeal; returns the consent's id, if there is one. */
export async function linkConsentToSubject(db: Db, appealId: string, subjectId: string): Promise<string | null> {
  const row = await db
    .updateTable('consents')
    .set({ subject_id: subjectId })
    .where('appeal_id', '=', appealId)
    .returning('id')
    .executeTakeFirst();
  return row?.id ?? null;
}

export async function consentsBySubjects(db: Db, subjectIds: readonly string[]): Promise<ConsentRecord[]> {
  if (subjectIds.length === 0) return [];
  const rows = await db.selectFrom('consents').selectAll().where('subject_id', 'in', [...subjectIds]).orderBy('given_at').execute();
  return rows.map(toRecord);
}

export async function consentsByIds(db: Db, ids: readonly string[]): Promise<ConsentRecord[]> {
  if (ids.length === 0) return [];
  return (await db.selectFrom('consents').selectAll().where('id', 'in', [...ids]).execute()).map(toRecord);
}

function toRecord(r: ConsentRow): ConsentRecord {
  return {
    id: r.id,
    subjectId: r.subject_id,
    templateCode: r.template_code,
    templateVersion: r.template_version,
    locale: r.locale as Locale,
    channel: r.channel,
    givenAt: r.given_at.toISOString(),
    withdrawnAt: r.withdrawn_at?.toISOString() ?? null,
    appealId: r.appeal_id,
    ipEnc: r.ip_enc,
    userAgentEnc: r.user_agent_enc,
    documentEnc: r.document_enc,
    enteredBy: r.entered_by,
  };
}

/** DESTROY removes the consents; DEPERSONALIZE keeps template, version, language, channel and date only. */
export async function eraseConsentsOf(trx: Db, subjectId: string, method: 'DESTROY' | 'DEPERSONALIZE'): Promise<void> {
  if (method === 'DESTROY') {
    await trx.deleteFrom('consents').where('subject_id', '=', subjectId).execute();
  } else {
    await trx
      .updateTable('consents')
      .set({ subject_id: null, appeal_id: null, ip_enc: null, user_agent_enc: null, document_enc: null, depersonalized_at: new Date() })
      .where('subject_id', '=', subjectId)
      .execute();
  }
  await trx.deleteFrom('blocked_subjects').where('subject_id', '=', subjectId).execute();
}

export async function countConsentsOf(db: Db, subjectId: string): Promise<number> {
  const row = await db.selectFrom('consents').select((eb) => eb.fn.countAll<string>().as('n')).where('subject_id', '=', subjectId).executeTakeFirstOrThrow();
  return Number(row.n);
}
