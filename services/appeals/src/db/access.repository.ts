import type { CursorKey, Role } from '@pdp/shared';
import { sql, type Kysely, type Selectable, type Transaction } from 'kysely';
import type { AccessGrantsTable, CreditorSuspensionsTable, Database } from './tables';

type Db = Kysely<Database> | Transaction<Database>;

export type GrantRow = Selectable<AccessGrantsTable>;
export type SuspensionRow = Selectable<CreditorSuspensionsTable>;

export interface NewGrant {
  id: string;
  account: string;
  displayNameEnc: string;
  roles: Role[];
  creditorId: string | null;
  reason: string;
  grantedBy: string;
}

/** The account's grant in force, locked for the change that follows (one writer per account at a time). */
export async function lockActiveGrant(trx: Transaction<Database>, account: string): Promise<GrantRow | undefined> {
  return trx.selectFrom('access_grants').selectAll().where('account', '=', account).where('revoked_at', 'is', null).forUpdate().executeTakeFirst();
}

export async function lockGrant(trx: Transaction<Database>, id: string): Promise<GrantRow | undefined> {
  return trx.selectFrom('access_grants').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
}

export async function grantById(db: Db, id: string): Promise<GrantRow | undefined> {
  return db.selectFrom('access_grants').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function activeGrantOf(db: Db, account: string): Promise<GrantRow | undefined> {
  return db.selectFrom('access_grants').selectAll().where('account', '=', account).where('revoked_at', 'is', null).executeTakeFirst();
}

export async function insertGrant(trx: Transaction<Database>, g: NewGrant): Promise<void> {
  await trx
    .insertInto('access_grants')
    .values({
      id: g.id,
      account: g.account,
      display_name_enc: g.displayNameEnc,
      roles: sql<Role[]>`${sql.val(g.roles)}::text[]`,
      creditor_id: g.creditorId,
      reason: g.reason,
      granted_by: g.grantedBy,
      revoked_at: null,
      revoked_by: null,
      revoke_reason: null,
    })
    .execute();
}

/** Closes a grant: revoked, or replaced by a new one. Each close is a new registry version. */
export async function closeGrant(trx: Transaction<Database>, id: string, by: string, reason: string): Promise<void> {
  await trx
    .updateTable('access_grants')
    .set({ revoked_at: new Date(), revoked_by: by, revoke_reason: reason, version: sql<string>`nextval('access_version_seq')` })
    .where('id', '=', id)
    .execute();
}

/** Whether any grant was ever made (the bootstrap DPO is granted only into an empty registry). */
export async function registryIsEmpty(trx: Transaction<Database>): Promise<boolean> {
  // Serialises two instances bootstrapping at once: the second sees the first's grant.
  await sql`lock table access_grants in share row exclusive mode`.execute(trx);
  return !(await trx.selectFrom('access_grants').select('id').limit(1).executeTakeFirst());
}

export interface GrantFilter {
  account?: string | null;
  role?: Role | null;
  active?: boolean | null;
}

/** One page of grants, newest first; the total over the same filter when asked. */
export async function grantPage(db: Db, filter: GrantFilter, after: CursorKey | null, limit: number, withTotal: boolean) {
  const matching = () => {
    let q = db.selectFrom('access_grants');
    if (filter.account) q = q.where('account', '=', filter.account);
    if (filter.role) q = q.where(sql<boolean>`${filter.role} = any(roles)`);
    if (filter.active === true) q = q.where('revoked_at', 'is', null);
    if (filter.active === false) q = q.where('revoked_at', 'is not', null);
    return q;
  };
  let q = matching().selectAll();
  // Strictly after the cursor's row, read back by its primary key so microseconds match.
  if (after) q = q.where(sql<boolean>`(granted_at, id) < (select c.granted_at, c.id from access_grants c where c.id = ${after.id})`);
  const rows = await q
    .orderBy('granted_at', 'desc')
    .orderBy('id', 'desc')
    .limit(limit + 1)
    .execute();
  const total = withTotal
    ? Number(
        (
          await matching()
            .select((eb) => eb.fn.countAll<string>().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      )
    : null;
  return { rows, total };
}

/** Grants in force at any moment of [from, to): who had access on a day (Art. 25(3)), by account. */
export async function grantsInForce(db: Db, from: Date, to: Date): Promise<GrantRow[]> {
  return db
    .selectFrom('access_grants')
    .selectAll()
    .where('granted_at', '<', to)
    .where((eb) => eb.or([eb('revoked_at', 'is', null), eb('revoked_at', '>=', from)]))
    .orderBy('account')
    .orderBy('granted_at')
    .limit(10_000)
    .execute();
}

export async function openSuspension(db: Db, creditorId: string): Promise<SuspensionRow | undefined> {
  return db.selectFrom('creditor_suspensions').selectAll().where('creditor_id', '=', creditorId).where('resumed_at', 'is', null).executeTakeFirst();
}

export async function openSuspensions(db: Db, creditorIds: readonly string[]): Promise<SuspensionRow[]> {
  if (creditorIds.length === 0) return [];
  return db.selectFrom('creditor_suspensions').selectAll().where('creditor_id', 'in', creditorIds).where('resumed_at', 'is', null).execute();
}

export async function insertSuspension(trx: Transaction<Database>, s: { id: string; creditorId: string; reason: string; by: string }): Promise<void> {
  await trx
    .insertInto('creditor_suspensions')
    .values({ id: s.id, creditor_id: s.creditorId, reason: s.reason, suspended_by: s.by, resumed_at: null, resumed_by: null, resume_reason: null })
    .execute();
}

export async function closeSuspension(trx: Transaction<Database>, id: string, by: string, reason: string): Promise<void> {
  await trx
    .updateTable('creditor_suspensions')
    .set({ resumed_at: new Date(), resumed_by: by, resume_reason: reason, version: sql<string>`nextval('access_version_seq')` })
    .where('id', '=', id)
    .execute();
}

/** Locks the creditor's row: one suspension or resumption of a creditor at a time. */
export async function lockCreditor(trx: Transaction<Database>, creditorId: string) {
  return trx.selectFrom('creditors').selectAll().where('id', '=', creditorId).forUpdate().executeTakeFirst();
}

/** The registry's newest version (grants and suspensions): cheap, two index lookups. */
export async function registryVersion(db: Db): Promise<number> {
  const row = await sql<{ v: string | null }>`
    select greatest((select max(version) from access_grants), (select max(version) from creditor_suspensions)) as v`.execute(db);
  return Number(row.rows[0]?.v ?? 0);
}

export interface AccountState {
  account: string;
  grant_id: string | null;
  roles: Role[] | null;
  creditor_id: string | null;
  suspended: boolean;
  version: string;
}

/**
 * What every account that ever had a grant may do now, with the registry version of its last change
 * (its grants' and its creditor's suspensions'): what access-sync.ts writes for the gateways.
 */
export async function accountStates(db: Db): Promise<AccountState[]> {
  const { rows } = await sql<AccountState>`
    select a.account,
           g.id as grant_id,
           g.roles,
           g.creditor_id,
           (s.id is not null) as suspended,
           greatest(a.version, coalesce(s_last.version, 0))::text as version
      from (select account, max(version) as version from access_grants group by account) a
      left join access_grants g on g.account = a.account and g.revoked_at is null
      left join creditor_suspensions s on s.creditor_id = g.creditor_id and s.resumed_at is null
      left join lateral (select max(version) as version from creditor_suspensions where creditor_id = g.creditor_id) s_last on true`.execute(db);
  return rows;
}
