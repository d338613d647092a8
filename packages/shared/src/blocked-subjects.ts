import { sql, type Kysely, type Migration, type Transaction } from 'kysely';
import type { PdHolder } from './events/catalog';
import type { Envelope } from './events/envelope';
import { enqueueEvent } from './events/outbox';

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

/** The tables of the holder protocol, in every holder's `Database` (appeals, consents, audit). */
export interface HolderTables {
  blocked_subjects: BlockedSubjectsTable;
  block_versions: BlockVersionsTable;
}

type Db = Kysely<HolderTables>;

/**
 * The holder protocol's tables, defined once. `blocked_subjects` was created inside a larger
 * migration of each holder (appeals' and consents' `2026_11_24_0002_lifecycle`, the audit's
 * `2026_11_25_0002_audit_evidence`), so those frozen migrations call these two; `block_versions`
 * came in a migration of its own, and each holder's list names `blockVersionsMigration` under the
 * name it was executed with there. Frozen: never edit, add a migration.
 */
export async function createBlockedSubjectsTable(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('blocked_subjects')
    .addColumn('subject_id', 'uuid', (c) => c.primaryKey())
    .addColumn('blocked_at', 'timestamptz', (c) => c.notNull())
    .execute();
}

export async function dropBlockedSubjectsTable(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('blocked_subjects').execute();
}

/**
 * The version of the latest block or unblock applied per subject: an older one, come back late from
 * the stream, changes nothing (see `setBlocked`).
 */
export const blockVersionsMigration: Migration = {
  async up(db: Kysely<any>) {
    await db.schema
      .createTable('block_versions')
      .addColumn('subject_id', 'uuid', (c) => c.primaryKey())
      .addColumn('version', 'integer', (c) => c.notNull())
      .execute();
  },
  async down(db: Kysely<any>) {
    await db.schema.dropTable('block_versions').execute();
  },
};

/**
 * Applies a block or an unblock (for `applyBlockEvent`, the one way a holder does). With a `version`
 * (every event subjects writes since 2026-12-05), it is applied only if newer than the last one
 * applied for the subject, and the answer says whether it was; an older one changes nothing.
 * Without one (an event written before), it is applied as it comes, as it always was.
 */
async function setBlocked(db: Kysely<any>, subjectId: string, blocked: boolean, at: Date, version?: number): Promise<boolean> {
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

/**
 * A holder's part of a block or an unblock subjects decided: applied to its `blocked_subjects` in
 * the consumer's transaction and, for a holder of personal data, answered with its receipt
 * (`subject.block_applied`, which subjects records). An older one than applied (it came back late)
 * changes nothing and is not answered: the newer one's receipt stands. The audit keeps the table
 * too (to notice a read that should not have happened) but holds no data to stop, so it sends none.
 */
export async function applyBlockEvent(
  trx: Transaction<any>,
  event: Envelope<'subject.blocked'> | Envelope<'subject.unblocked'>,
  receipt: { prefix: string; service: PdHolder } | null,
): Promise<void> {
  const subjectId = event.subjectId;
  if (!subjectId) return;
  const blocked = event.type === 'subject.blocked';
  const { version } = event.data;
  if (!(await setBlocked(trx, subjectId, blocked, new Date(event.occurredAt), version))) return;
  if (!receipt) return;
  const { prefix, service } = receipt;
  await enqueueEvent(trx, prefix, {
    source: service,
    actor: event.actor,
    subjectId,
    correlationId: event.id,
    type: 'subject.block_applied',
    data: { subjectId, blocked, service, version },
  });
}

export async function blockedAmong(db: Kysely<any>, subjectIds: readonly (string | null)[]): Promise<Set<string>> {
  const ids = subjectIds.filter((id): id is string => id !== null);
  if (ids.length === 0) return new Set();
  const rows = await (db as Db).selectFrom('blocked_subjects').select('subject_id').where('subject_id', 'in', ids).execute();
  return new Set(rows.map((r) => r.subject_id));
}
