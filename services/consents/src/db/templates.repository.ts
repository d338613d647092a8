import { sql, type Kysely, type Transaction } from 'kysely';
import type { Locale } from '../domain/consent';
import type { Database, TemplateRow } from './tables';

type Db = Kysely<Database> | Transaction<Database>;

/** The versions in force now: for each code (and language) the newest one whose date has come. */
export async function templatesInForce(db: Db, locale: Locale | null, at: Date): Promise<TemplateRow[]> {
  let q = db
    .selectFrom('consent_templates')
    .selectAll()
    .distinctOn(['code', 'locale'])
    .where('effective_from', '<=', at)
    .where('both_languages', '=', true)
    .orderBy('code')
    .orderBy('locale')
    .orderBy('version', 'desc');
  if (locale) q = q.where('locale', '=', locale);
  return q.execute();
}

/** Exact versions (code, version, locale), e.g. the ones consents point at. */
export async function templatesByKeys(db: Db, keys: readonly string[]): Promise<TemplateRow[]> {
  if (keys.length === 0) return [];
  const tuples = keys.map((k) => k.split(':'));
  return db
    .selectFrom('consent_templates')
    .selectAll()
    .where((eb) =>
      eb.or(tuples.map(([code, version, locale]) => eb.and([eb('code', '=', code!), eb('version', '=', Number(version)), eb('locale', '=', locale!)]))),
    )
    .execute();
}

export function templateKey(code: string, version: number, locale: string): string {
  return `${code}:${version}:${locale}`;
}

/** The newest version of a code in a language, whatever its date (a new version builds on it). */
export async function latestVersion(trx: Transaction<Database>, code: string, locale: Locale): Promise<TemplateRow | undefined> {
  // One publisher at a time per code, both languages: the next version number, and whether it pairs
  // with the other language's, is decided under the lock.
  await sql`select pg_advisory_xact_lock(hashtext(${`consent_template:${code}`}))`.execute(trx);
  return trx
    .selectFrom('consent_templates')
    .selectAll()
    .where('code', '=', code)
    .where('locale', '=', locale)
    .orderBy('version', 'desc')
    .limit(1)
    .executeTakeFirst();
}

/** The first version of a code in a language: what a paper signed before any version took effect is recorded on. */
export async function firstVersion(db: Db, code: string, locale: Locale): Promise<TemplateRow | undefined> {
  return db
    .selectFrom('consent_templates')
    .selectAll()
    .where('code', '=', code)
    .where('locale', '=', locale)
    .where('both_languages', '=', true)
    .orderBy('version')
    .limit(1)
    .executeTakeFirst();
}

/** The newest version of a code in a language, read under the lock `latestVersion` took. */
export async function newestOf(trx: Transaction<Database>, code: string, locale: Locale): Promise<TemplateRow | undefined> {
  return trx
    .selectFrom('consent_templates')
    .selectAll()
    .where('code', '=', code)
    .where('locale', '=', locale)
    .orderBy('version', 'desc')
    .limit(1)
    .executeTakeFirst();
}

/** The other language's waiting version is published too: both take effect together, from `at`. */
export async function pairVersion(trx: Transaction<Database>, code: string, version: number, locale: Locale, at: Date): Promise<TemplateRow> {
  return trx
    .updateTable('consent_templates')
    .set({ both_languages: true, effective_from: at })
    .where('code', '=', code)
    .where('version', '=', version)
    .where('locale', '=', locale)
    .returningAll()
    .executeTakeFirstOrThrow();
}

export type NewTemplate = Omit<TemplateRow, 'published_at'>;

export async function insertTemplate(trx: Db, t: NewTemplate): Promise<TemplateRow> {
  return trx
    .insertInto('consent_templates')
    .values({ ...t, data_items: JSON.stringify(t.data_items) as unknown as string[] })
    .returningAll()
    .executeTakeFirstOrThrow();
}
