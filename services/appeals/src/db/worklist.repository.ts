import type { CursorKey } from '@pdp/shared';
import { sql, type Kysely, type Selectable, type SelectQueryBuilder, type Transaction } from 'kysely';
import type { AppealKind, AppealStatus } from '../domain/appeal';
import type { AppealRow, CreditorsTable, Database } from './tables';

type Db = Kysely<Database> | Transaction<Database>;

export type CreditorRow = Selectable<CreditorsTable>;

export interface WorklistFilter {
  status?: AppealStatus[] | null;
  kind?: AppealKind[] | null;
  assignee?: string | null;
  overdue?: boolean | null;
  reference?: string | null;
}

export interface PageRequest {
  after: CursorKey | null;
  limit: number;
  /** Also count every match (`totalCount`), in the same query. */
  withTotal: boolean;
  /** Leave out blocked subjects' appeals (everyone but the DPO and the audit). */
  hideBlocked: boolean;
  today: string;
  openStatuses: AppealStatus[];
}

/**
 * One page of the worklist, newest first, in one SQL query: the filters, the cursor (strictly after
 * the last row's (submitted_at, id), read back from that row by its primary key so microseconds
 * match), the blocked subjects left out where they must be, and — when asked — the total as a scalar
 * subquery over the same filters. That subquery reads index entries only (`appeals_count`, an
 * index-only scan); a window `count(*) over ()` would fetch and sort every matching row to return
 * fifty (bench/worklist measured both). Inside it `appeals` names its own FROM (SQL resolves a name
 * to the nearest scope), so the same filter builder serves both.
 */
export async function worklistPage(db: Db, filter: WorklistFilter, page: PageRequest): Promise<{ rows: AppealRow[]; total: number | null }> {
  const matching = () => {
    let q = db.selectFrom('appeals').where('appeals.depersonalized_at', 'is', null);
    if (filter.status?.length) q = q.where('appeals.status', 'in', filter.status);
    if (filter.kind?.length) q = q.where('appeals.kind', 'in', filter.kind);
    if (filter.assignee) q = q.where('appeals.assignee', '=', filter.assignee);
    if (filter.reference) q = q.where('appeals.reference', '=', filter.reference);
    if (filter.overdue === true) q = q.where('appeals.status', 'in', page.openStatuses).where('appeals.deadline', '<', page.today);
    if (filter.overdue === false) q = q.where((eb) => eb.or([eb('appeals.status', 'not in', page.openStatuses), eb('appeals.deadline', '>=', page.today)]));
    if (page.hideBlocked) {
      q = q.where((eb) =>
        eb.not(eb.exists(eb.selectFrom('blocked_subjects').select('subject_id').whereRef('blocked_subjects.subject_id', '=', 'appeals.subject_id'))),
      );
    }
    return q;
  };
  let q = matching().selectAll('appeals');
  if (page.after) q = q.where(before('submitted_at', page.after));
  const ordered = q
    .orderBy('appeals.submitted_at', 'desc')
    .orderBy('appeals.id', 'desc')
    .limit(page.limit + 1);
  if (!page.withTotal) return { rows: await ordered.execute(), total: null };
  return withTotal(ordered, () => matching().select((eb) => eb.fn.countAll<string>().as('n')));
}

/** The appeals forwarded to one creditor that its view still shows (not blocked, consent standing), newest forward first; the total as in worklistPage. */
export async function partnerPage(db: Db, creditorId: string, after: CursorKey | null, limit: number, total: boolean) {
  const matching = () =>
    db.selectFrom('appeals').where('appeals.forwarded_to', '=', creditorId).where('appeals.depersonalized_at', 'is', null).where(visibleToPartner);
  let q = matching().selectAll('appeals');
  if (after) q = q.where(before('forwarded_at', after));
  const ordered = q
    .orderBy('appeals.forwarded_at', 'desc')
    .orderBy('appeals.id', 'desc')
    .limit(limit + 1);
  if (!total) return { rows: await ordered.execute(), total: null };
  return withTotal(ordered, () => matching().select((eb) => eb.fn.countAll<string>().as('n')));
}

/**
 * Rows strictly after the cursor in the page order (`column` desc, id desc). The cursor row's own key
 * is read back by its primary key, so the microseconds match; its encoded time serves if it is gone.
 */
function before(column: 'submitted_at' | 'forwarded_at', after: CursorKey) {
  return sql<boolean>`(${sql.ref(`appeals.${column}`)}, appeals.id) < (coalesce((select ${sql.ref(`a.${column}`)} from appeals a where a.id = ${after.id}::uuid), ${after.at}::timestamptz), ${after.id}::uuid)`;
}

/**
 * The page with its total riding on every row as a scalar subquery (one statement); when the page is
 * empty (after the last cursor) nothing carries it, and the count runs on its own.
 */
async function withTotal(
  page: SelectQueryBuilder<Database, 'appeals', AppealRow>,
  count: () => SelectQueryBuilder<Database, 'appeals', { n: string }>,
): Promise<{ rows: AppealRow[]; total: number }> {
  const rows = await page.select(count().as('total_count')).execute();
  if (rows.length > 0) return { rows, total: Number(rows[0]!.total_count) };
  const { n } = await count().executeTakeFirstOrThrow();
  return { rows, total: Number(n) };
}

/**
 * A forwarded appeal stays in the partner's view while its subject is not blocked, the consent given
 * with it (if any) was not withdrawn, and a consent that allows the transfer still stands (an erased
 * appeal is gone or depersonalized already). The withdrawn consent is one probe of a partial index of
 * the (few) withdrawn ones (`transfer_consents_withdrawn_appeal`). Two EXISTS
 * rather than one over an OR: each is one probe of a partial index of the standing consents
 * (`transfer_consents_standing_*`), where the OR made a bitmap of two indexes and a heap visit per row
 * — the partner's `totalCount` checks every forwarded appeal this way (bench/worklist).
 */
const visibleToPartner = sql<boolean>`not exists (select 1 from blocked_subjects b where b.subject_id = appeals.subject_id)
  and not exists (select 1 from transfer_consents w where w.appeal_id = appeals.id and w.withdrawn_at is not null)
  and (exists (select 1 from transfer_consents c where c.subject_id = appeals.subject_id and c.allows_transfer and c.withdrawn_at is null)
       or exists (select 1 from transfer_consents c where c.appeal_id = appeals.id and c.allows_transfer and c.withdrawn_at is null))`;

export async function partnerAppealById(db: Db, appealId: string, creditorId: string): Promise<AppealRow | undefined> {
  return db
    .selectFrom('appeals')
    .selectAll('appeals')
    .where('appeals.id', '=', appealId)
    .where('appeals.forwarded_to', '=', creditorId)
    .where('appeals.depersonalized_at', 'is', null)
    .where(visibleToPartner)
    .executeTakeFirst();
}

/**
 * Whether the appeal may be transferred: the consent given with it, if any, was not withdrawn, and a
 * consent of the subject (or given with this appeal) allows transfer to third parties and still stands.
 */
export async function hasTransferConsent(db: Db, appealId: string, subjectId: string | null): Promise<boolean> {
  const row = await db
    .selectFrom('transfer_consents')
    .select('consent_id')
    .where('allows_transfer', '=', true)
    .where('withdrawn_at', 'is', null)
    .where((eb) => (subjectId ? eb.or([eb('subject_id', '=', subjectId), eb('appeal_id', '=', appealId)]) : eb('appeal_id', '=', appealId)))
    .where(sql<boolean>`not exists (select 1 from transfer_consents w where w.appeal_id = ${appealId}::uuid and w.withdrawn_at is not null)`)
    .limit(1)
    .executeTakeFirst();
  return Boolean(row);
}

export async function lockForWork(trx: Transaction<Database>, id: string) {
  return trx.selectFrom('appeals').selectAll().where('id', '=', id).where('depersonalized_at', 'is', null).forUpdate().executeTakeFirst();
}

export async function creditorById(db: Db, id: string): Promise<CreditorRow | undefined> {
  return db.selectFrom('creditors').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function creditorsByIds(db: Db, ids: readonly string[]): Promise<CreditorRow[]> {
  if (ids.length === 0) return [];
  return db
    .selectFrom('creditors')
    .selectAll()
    .where('id', 'in', [...ids])
    .execute();
}

export async function listCreditors(db: Db, limit: number): Promise<CreditorRow[]> {
  return db.selectFrom('creditors').selectAll().orderBy('name').orderBy('id').limit(limit).execute();
}

/** Inserts a creditor; false when its BIN is registered already. */
export async function insertCreditor(db: Db, c: { id: string; bin: string; name: string; country: string; registeredBy: string }): Promise<boolean> {
  const row = await db
    .insertInto('creditors')
    .values({ id: c.id, bin: c.bin, name: c.name, country: c.country, registered_by: c.registeredBy })
    .onConflict((oc) => oc.column('bin').doNothing())
    .returning('id')
    .executeTakeFirst();
  return Boolean(row);
}
