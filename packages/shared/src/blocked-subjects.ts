import { sql, type Kysely } from 'kysely';

/**
 * Every holder of personal data keeps the subjects that subjects has blocked (clause 6.1.3) in a
 * `blocked_subjects` table of its own, so it enforces a block without asking anyone.
 */
export interface BlockedSubjectsTable {
  subject_id: string;
  blocked_at: Date;
}

/**
 * The version of the latest block or unblock a holder applied for a subject. Subjects numbers a
 * subject's blocks and unblocks (under the subject's row lock, so they never tie); a holder applies
 * an event only if it is newer than what it holds. So a block that comes back late (redelivered
 * after a killed instance's ack_wait, or after a nak's backoff) cannot undo the unblock that
 * followed it, whatever order the stream hands them out in.
 */
export interface BlockVersionsTable {
  subject_id: string;
  version: number;
}

type Db = Kysely<{ blocked_subjects: BlockedSubjectsTable; block_versions: BlockVersionsTable }>;

/**
 * Applies a block or an unblock. With a `version` (every event subjects writes since 2026-12-05), it
 * is applied only if newer than the last one applied for the subject, and the answer says whether it
 * was; an older one changes nothing. Without one (an event written before), it is applied as it
 * comes, as it always was.
 */
export async function setBlocked(db: Kysely<any>, subjectId: string, blocked: boolean, at: Date, version?: number): Promise<boolean> {
  const trx = db as Db;
  if (version !== undefined) {
    const newer = await trx
      .insertInto('block_versions')
      .values({ subject_id: subjectId, version })
      .onConflict((oc) => oc.column('subject_id').doUpdateSet({ version: sql<number>`excluded.version` }).where('block_versions.version', '<', version))
      .returning('subject_id')
      .executeTakeFirst();
    if (!newer) return false;
  }
  if (blocked) {
    await trx
      .insertInto('blocked_subjects')
      .values({ subject_id: subjectId, blocked_at: at })
      .onConflict((oc) => oc.column('subject_id').doNothing())
      .execute();
  } else {
    await trx.deleteFrom('blocked_subjects').where('subject_id', '=', subjectId).execute();
  }
  return true;
}

export async function blockedAmong(db: Kysely<any>, subjectIds: readonly (string | null)[]): Promise<Set<string>> {
  const ids = subjectIds.filter((id): id is string => id !== null);
  if (ids.length === 0) return new Set();
  const rows = await (db as Db).selectFrom('blocked_subjects').select('subject_id').where('subject_id', 'in', ids).execute();
  return new Set(rows.map((r) => r.subject_id));
}
