import type { Kysely } from 'kysely';

/**
 * Every holder of personal data keeps the subjects that subjects has blocked (clause 6.1.3) in a
 * `blocked_subjects` table of its own, so it enforces a block without asking anyone.
 */
export interface BlockedSubjectsTable {
  subject_id: string;
  blocked_at: Date;
}

type Db = Kysely<{ blocked_subjects: BlockedSubjectsTable }>;

export async function setBlocked(db: Kysely<any>, subjectId: string, blocked: boolean, at: Date): Promise<void> {
  const trx = db as Db;
  if (blocked) {
    await trx.insertInto('blocked_subjects').values({ subject_id: subjectId, blocked_at: at }).onConflict((oc) => oc.column('subject_id').doNothing()).execute();
  } else {
    await trx.deleteFrom('blocked_subjects').where('subject_id', '=', subjectId).execute();
  }
}

export async function blockedAmong(db: Kysely<any>, subjectIds: readonly (string | null)[]): Promise<Set<string>> {
  const ids = subjectIds.filter((id): id is string => id !== null);
  if (ids.length === 0) return new Set();
  const rows = await (db as Db).selectFrom('blocked_subjects').select('subject_id').where('subject_id', 'in', ids).execute();
  return new Set(rows.map((r) => r.subject_id));
}
