import { sql, type Insertable, type Kysely, type Transaction } from 'kysely';
import { notifyRelay, type OutboxTable } from '@pdp/shared';
import type { AppealKind, AppealRecord, AppealStatus, ForwardedField, Locale } from '../domain/appeal';
import type { AppealRow, Database } from './tables';

type Db = Kysely<Database> | Transaction<Database>;

export async function nextReferenceNumber(trx: Db): Promise<number> {
  const { rows } = await sql<{ n: string }>`select nextval('appeal_reference_seq') as n`.execute(trx);
  return Number(rows[0]!.n);
}

export interface NewAppeal {
  id: string;
  reference: string;
  kind: AppealKind;
  channel: string;
  locale: Locale;
  phoneEnc: string | null;
  emailEnc: string | null;
  descriptionEnc: string;
  deadline: string;
  submittedAt: Date;
  iinBidx: string;
  enteredBy: string | null;
}

/**
 * Inserts the appeal, the first line of its history and its outbox rows (its hand-offs and its
 * event, see `handoffOutboxRows` and `signedOutboxRows`) in one statement: on its own, outside a
 * transaction, it is atomic and one commit, the intake's only round trip besides its reference number.
 * (The history row references the appeal; PostgreSQL checks that foreign key at the end of the
 * statement.) The statement wakes the relay when it commits.
 */
export async function insertAppeal(db: Db, a: NewAppeal, outboxRows: Insertable<OutboxTable>[]): Promise<AppealRecord> {
  const values = {
    id: a.id,
    reference: a.reference,
    kind: a.kind,
    status: 'NEW' as const,
    channel: a.channel,
    locale: a.locale,
    subject_id: null,
    phone_enc: a.phoneEnc,
    email_enc: a.emailEnc,
    description_enc: a.descriptionEnc,
    deadline: a.deadline,
    submitted_at: a.submittedAt,
    depersonalized_at: null,
    iin_bidx: a.iinBidx,
    entered_by: a.enteredBy,
  };
  const history = { appeal_id: a.id, status: 'NEW' as const, note_enc: null, changed_by: a.enteredBy ?? 'public' };
  const row = await db
    .with('outboxed', (d) => d.insertInto('outbox').values(outboxRows))
    .with('history', (d) => d.insertInto('appeal_changes').values(history))
    .insertInto('appeals')
    .values(values)
    .returningAll()
    .returning(notifyRelay().as('notified'))
    .executeTakeFirstOrThrow();
  return toRecord(row);
}

export async function linkAppealToSubject(trx: Db, appealId: string, subjectId: string): Promise<number> {
  const result = await trx.updateTable('appeals').set({ subject_id: subjectId, updated_at: new Date() }).where('id', '=', appealId).executeTakeFirst();
  return Number(result.numUpdatedRows);
}

export async function appealsByIds(db: Db, ids: readonly string[]): Promise<AppealRecord[]> {
  if (ids.length === 0) return [];
  // A depersonalized appeal is statistics, no longer anyone's appeal: it is not read back.
  const rows = await db
    .selectFrom('appeals')
    .selectAll()
    .where('id', 'in', [...ids])
    .where('depersonalized_at', 'is', null)
    .execute();
  return rows.map(toRecord);
}

export async function appealsBySubjects(db: Db, subjectIds: readonly string[]): Promise<AppealRecord[]> {
  if (subjectIds.length === 0) return [];
  const rows = await db
    .selectFrom('appeals')
    .selectAll()
    .where('subject_id', 'in', [...subjectIds])
    .orderBy('submitted_at')
    .execute();
  return rows.map(toRecord);
}

export function toRecord(row: AppealRow): AppealRecord {
  return {
    id: row.id,
    reference: row.reference,
    kind: row.kind,
    status: row.status,
    locale: row.locale as Locale,
    subjectId: row.subject_id,
    deadline: row.deadline,
    submittedAt: row.submitted_at.toISOString(),
    phoneEnc: row.phone_enc,
    emailEnc: row.email_enc,
    descriptionEnc: row.description_enc,
    channel: row.channel,
    enteredBy: row.entered_by,
    assignee: row.assignee,
    answerEnc: row.answer_enc,
    forwardedTo: row.forwarded_to,
    forwardedFields: (row.forwarded_fields ?? []) as ForwardedField[],
    forwardedAt: row.forwarded_at?.toISOString() ?? null,
    partnerResponseEnc: row.partner_response_enc,
    submittedAtKey: row.submitted_at.toISOString(),
  };
}

/** The appeal a reference names, for the person's own status lookup. */
export async function appealByReference(db: Db, reference: string) {
  return db
    .selectFrom('appeals')
    .select(['id', 'reference', 'status', 'deadline', 'subject_id', 'iin_bidx'])
    .where('reference', '=', reference)
    .where('depersonalized_at', 'is', null)
    .executeTakeFirst();
}

export interface AppealChangeRow {
  /** The row's id: its note is bound to it. */
  id: string;
  appealId: string;
  status: AppealStatus;
  noteEnc: string | null;
  by: string;
  at: string;
}

/** The history of several appeals in one query, oldest first. */
export async function changesOf(db: Db, appealIds: readonly string[]): Promise<AppealChangeRow[]> {
  if (appealIds.length === 0) return [];
  const rows = await db
    .selectFrom('appeal_changes')
    .select(['id', 'appeal_id', 'status', 'note_enc', 'changed_by', 'changed_at'])
    .where('appeal_id', 'in', [...appealIds])
    .orderBy('appeal_id')
    .orderBy('id')
    .execute();
  return rows.map((r) => ({ id: r.id, appealId: r.appeal_id, status: r.status, noteEnc: r.note_enc, by: r.changed_by, at: r.changed_at.toISOString() }));
}

export async function addChange(db: Db, appealId: string, status: AppealStatus, by: string): Promise<void> {
  await db.insertInto('appeal_changes').values({ appeal_id: appealId, status, note_enc: null, changed_by: by }).execute();
}

/**
 * A history line with a note. The row's id is taken from its sequence first, because the note is
 * encrypted bound to it (`seal` gets the id) before the row exists.
 */
export async function addNote(db: Db, appealId: string, status: AppealStatus, by: string, seal: (id: string) => string): Promise<void> {
  const [id] = await nextIds(db, 'appeal_changes', 1);
  await db
    .insertInto('appeal_changes')
    .values({ id: id!, appeal_id: appealId, status, note_enc: seal(id!), changed_by: by })
    .execute();
}

/** The next `n` values of a table's `bigserial` id, for rows whose encrypted values are bound to them before insert. */
export async function nextIds(db: Db, table: 'appeal_changes' | 'contact_history', n: number): Promise<string[]> {
  if (n === 0) return [];
  const { rows } = await sql<{ id: string }>`select nextval(pg_get_serial_sequence(${table}, 'id')) as id from generate_series(1, ${n})`.execute(db);
  return rows.map((r) => r.id);
}
