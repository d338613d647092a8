import { sql, type Kysely, type Transaction } from 'kysely';
import { ENTRY_HASH_VERSION, GENESIS_HASH, entryHash, isoMicros, type ChainEntry, type Outcome } from '../domain/chain';
import type { NewEntry } from '../domain/entry';
import type { Database } from './tables';

type Db = Kysely<Database> | Transaction<Database>;

/** A fixed advisory lock id: appends are serialised so the chain has exactly one head. */
const CHAIN_LOCK = 0x5044_4155;

export async function lockChain(trx: Transaction<Database>): Promise<void> {
  await sql`select pg_advisory_xact_lock(${CHAIN_LOCK})`.execute(trx);
}

/** Timestamps as hashed: UTC with microseconds, exactly as PostgreSQL keeps them. */
const micros = (column: 'occurred_at' | 'recorded_at') => sql<string>`to_char(${sql.ref(column)} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

const COLUMNS = [
  'seq',
  'hash_version',
  'event_id',
  'event_type',
  'operation',
  'source',
  'actor_id',
  'actor_roles',
  'creditor_id',
  'purpose',
  'outcome',
  'client_key',
  'resource',
  'resource_ids',
  'fields',
  'subject_id',
  'correlation_id',
  'details',
  'prev_hash',
  'hash',
] as const;

function selectEntries(db: Db) {
  return db.selectFrom('audit_log').select([...COLUMNS, micros('occurred_at').as('occurred'), micros('recorded_at').as('recorded')]);
}

type EntryRow = Awaited<ReturnType<ReturnType<typeof selectEntries>['executeTakeFirstOrThrow']>>;

function toEntry(r: EntryRow): ChainEntry {
  return {
    seq: r.seq,
    hashVersion: r.hash_version,
    eventId: r.event_id,
    type: r.event_type,
    operation: r.operation,
    source: r.source,
    actorId: r.actor_id,
    actorRoles: r.actor_roles,
    creditorId: r.creditor_id,
    purpose: r.purpose,
    // Version-1 entries predate the column: a denial is the only other outcome.
    outcome: (r.outcome ?? (r.operation === 'DENIED' ? 'DENIED' : 'ALLOWED')) as Outcome,
    subjectId: r.subject_id,
    correlationId: r.correlation_id,
    clientKey: r.client_key,
    resource: r.resource,
    resourceIds: r.resource_ids ?? [],
    fields: r.fields ?? [],
    occurredAt: r.occurred,
    recordedAt: r.recorded,
    details: r.details,
    prevHash: r.prev_hash,
    hash: r.hash,
  };
}

/** An entry as a head of the chain: where it is, its hash, and the recorder's signature if it signed it as a head. */
export interface Head {
  seq: string;
  hash: string;
  recordedAt: Date;
  /** `recordedAt` as hashed and signed (microseconds). */
  recordedAtText: string;
  headKeyId: string | null;
  headSignature: string | null;
}

function selectHeads(db: Db) {
  return db.selectFrom('audit_log').select(['seq', 'hash', 'recorded_at', micros('recorded_at').as('recorded'), 'head_key_id', 'head_signature']);
}

type HeadRow = Awaited<ReturnType<ReturnType<typeof selectHeads>['executeTakeFirstOrThrow']>>;

const toHead = (r: HeadRow): Head => ({
  seq: r.seq,
  hash: r.hash,
  recordedAt: r.recorded_at,
  recordedAtText: r.recorded,
  headKeyId: r.head_key_id,
  headSignature: r.head_signature,
});

export async function chainHead(db: Db): Promise<Head | null> {
  const row = await selectHeads(db).orderBy('seq', 'desc').limit(1).executeTakeFirst();
  return row ? toHead(row) : null;
}

export async function headAt(db: Db, seq: string): Promise<Head | null> {
  const row = await selectHeads(db).where('seq', '=', seq).executeTakeFirst();
  return row ? toHead(row) : null;
}

/** The newest entries at or below `seq` that carry a head signature, newest first (valid or not: the caller checks). */
export async function signedHeadsUpTo(db: Db, seq: string, limit: number): Promise<Head[]> {
  const rows = await selectHeads(db).where('head_signature', 'is not', null).where('seq', '<=', seq).orderBy('seq', 'desc').limit(limit).execute();
  return rows.map(toHead);
}

/** Where new entries go: after `seq`, linked to `prevHash` — the head the recorder wrote last, which the database should hold. */
export interface Link {
  seq: string;
  prevHash: string;
  /** `recordedAt` of the entry before: time never goes back along the chain. */
  recordedAt: Date | null;
}

/** Signs a new head (the recorder's key): its key id and signature, stored on the head's row. */
export type HeadSigner = (head: Pick<ChainEntry, 'seq' | 'hash' | 'recordedAt'>) => { keyId: string; signature: string };

/**
 * Appends entries after `link`, in order, under the chain lock (the caller holds it): each `seq` is
 * the previous one's plus one (never a sequence, whose numbers a rolled-back transaction would skip),
 * `recordedAt` never goes back in time (so a period is a range of `seq`), each hash covers all of it,
 * and the last one carries the recorder's signature as the new head. One INSERT for all.
 */
export async function appendEntries(trx: Transaction<Database>, entries: NewEntry[], link: Link | null, signHead: HeadSigner): Promise<ChainEntry[]> {
  const now = new Date();
  const recordedAt = link?.recordedAt && link.recordedAt > now ? link.recordedAt : now;
  let seq = BigInt(link?.seq ?? '0');
  let prevHash = link?.prevHash ?? GENESIS_HASH;
  const placed = entries.map((entry) => {
    seq += 1n;
    const e: ChainEntry = { ...entry, seq: String(seq), hashVersion: ENTRY_HASH_VERSION, recordedAt: isoMicros(recordedAt), prevHash, hash: '' };
    e.hash = entryHash(e);
    prevHash = e.hash;
    return e;
  });
  const head = placed.at(-1);
  const signature = head ? signHead(head) : null;
  await trx
    .insertInto('audit_log')
    .values(
      placed.map((e) => ({
        seq: e.seq,
        hash_version: e.hashVersion,
        event_id: e.eventId,
        event_type: e.type,
        operation: e.operation,
        source: e.source,
        actor_id: e.actorId,
        actor_roles: JSON.stringify(e.actorRoles) as unknown as string[],
        creditor_id: e.creditorId,
        purpose: e.purpose,
        outcome: e.outcome,
        client_key: e.clientKey,
        resource: e.resource,
        resource_ids: JSON.stringify(e.resourceIds) as unknown as string[],
        fields: JSON.stringify(e.fields) as unknown as string[],
        subject_id: e.subjectId,
        correlation_id: e.correlationId,
        occurred_at: new Date(e.occurredAt),
        recorded_at: recordedAt,
        details: JSON.stringify(e.details),
        prev_hash: e.prevHash,
        hash: e.hash,
        head_key_id: e === head ? signature!.keyId : null,
        head_signature: e === head ? signature!.signature : null,
      })),
    )
    .execute();
  return placed;
}

/** Entries after `afterSeq` up to `throughSeq`, oldest first: the pages verification walks. */
export async function entriesBetween(db: Db, afterSeq: string, throughSeq: string, limit: number): Promise<ChainEntry[]> {
  const rows = await selectEntries(db).where('seq', '>', afterSeq).where('seq', '<=', throughSeq).orderBy('seq').limit(limit).execute();
  return rows.map(toEntry);
}

export async function entryAt(db: Db, seq: string): Promise<ChainEntry | null> {
  const row = await selectEntries(db).where('seq', '=', seq).executeTakeFirst();
  return row ? toEntry(row) : null;
}

export async function entriesAt(db: Db, seqs: readonly string[]): Promise<ChainEntry[]> {
  if (seqs.length === 0) return [];
  return (
    await selectEntries(db)
      .where('seq', 'in', [...seqs])
      .orderBy('seq')
      .execute()
  ).map(toEntry);
}

export interface EntrySearch {
  subjectIds?: readonly string[];
  actorId?: string | null;
  operation?: string | null;
  source?: string | null;
  afterSeq?: string | null;
  /** Inclusive bounds on `seq` (a period, see `seqRangeOf`). */
  fromSeq?: string | null;
  toSeq?: string | null;
  limit: number;
}

/** Oldest first; each filter has an index led by its column and followed by `seq`. */
export async function searchEntries(db: Db, f: EntrySearch): Promise<ChainEntry[]> {
  let q = selectEntries(db).orderBy('seq').limit(f.limit);
  if (f.subjectIds) q = q.where('subject_id', 'in', [...f.subjectIds]);
  if (f.actorId) q = q.where('actor_id', '=', f.actorId);
  if (f.operation) q = q.where('operation', '=', f.operation);
  if (f.source) q = q.where('source', '=', f.source);
  if (f.afterSeq) q = q.where('seq', '>', f.afterSeq);
  if (f.fromSeq) q = q.where('seq', '>=', f.fromSeq);
  if (f.toSeq) q = q.where('seq', '<=', f.toSeq);
  return (await q.execute()).map(toEntry);
}

/**
 * The `seq` range of entries recorded in [from, to): `recorded_at` never decreases along the chain,
 * so a period is two index lookups. Null when nothing was recorded in it.
 */
export async function seqRangeOf(db: Db, from: Date | null, to: Date | null): Promise<{ fromSeq: string | null; toSeq: string | null } | null> {
  const first = from
    ? await db.selectFrom('audit_log').select('seq').where('recorded_at', '>=', from).orderBy('recorded_at').orderBy('seq').limit(1).executeTakeFirst()
    : undefined;
  const last = to
    ? await db
        .selectFrom('audit_log')
        .select('seq')
        .where('recorded_at', '<', to)
        .orderBy('recorded_at', 'desc')
        .orderBy('seq', 'desc')
        .limit(1)
        .executeTakeFirst()
    : undefined;
  if ((from && !first) || (to && !last)) return null;
  if (first && last && BigInt(first.seq) > BigInt(last.seq)) return null;
  return { fromSeq: first?.seq ?? null, toSeq: last?.seq ?? null };
}

/** Entries of each operation kind and denied attempts in a `seq` range. */
export async function countByOperation(db: Db, fromSeq: string, toSeq: string): Promise<Array<{ operation: string; count: number }>> {
  const rows = await db
    .selectFrom('audit_log')
    .select(['operation', (eb) => eb.fn.countAll<string>().as('n')])
    .where('seq', '>=', fromSeq)
    .where('seq', '<=', toSeq)
    .groupBy('operation')
    .orderBy('operation')
    .execute();
  return rows.map((r) => ({ operation: r.operation, count: Number(r.n) }));
}

/**
 * The newest `limit` entries of one actor (or one anonymous client) of one operation since a time, up
 * to entry `upTo` (a batch's later entries are already there: a rule looks at what came before).
 */
export async function recentOf(
  db: Db,
  who: { actorId: string } | { clientKey: string },
  operation: string,
  since: Date,
  upTo: string,
  limit: number,
  extra: { subjectId?: string; reason?: { is: string } | { not: string } } = {},
): Promise<string[]> {
  let q = db.selectFrom('audit_log').select('seq').where('operation', '=', operation).where('occurred_at', '>', since).where('seq', '<=', upTo);
  q = 'actorId' in who ? q.where('actor_id', '=', who.actorId) : q.where('client_key', '=', who.clientKey);
  if (extra.subjectId) q = q.where('subject_id', '=', extra.subjectId);
  if (extra.reason && 'is' in extra.reason) q = q.where(sql`details->>'reason'`, '=', extra.reason.is);
  if (extra.reason && 'not' in extra.reason) q = q.where(sql`coalesce(details->>'reason', '')`, '<>', extra.reason.not);
  const rows = await q.orderBy('occurred_at', 'desc').limit(limit).execute();
  return rows.map((r) => r.seq).reverse();
}

/** Refusals of a given reason (`access.denied`) in a `seq` range, e.g. OWN_INCIDENT. */
export async function denialsFor(db: Db, reason: string, fromSeq: string, toSeq: string): Promise<number> {
  const row = await db
    .selectFrom('audit_log')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('operation', '=', 'DENIED')
    .where('event_type', '=', 'access.denied')
    .where(sql`details->>'reason'`, '=', reason)
    .where('seq', '>=', fromSeq)
    .where('seq', '<=', toSeq)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Denied attempts in a `seq` range; a gateway summary of several refusals counts as that many. */
export async function deniedAttempts(db: Db, fromSeq: string, toSeq: string): Promise<number> {
  const row = await db
    .selectFrom('audit_log')
    .select(sql<string>`coalesce(sum(case when event_type = 'request.refused' then coalesce((details->>'count')::int, 1) else 1 end), 0)`.as('n'))
    .where('operation', '=', 'DENIED')
    .where('seq', '>=', fromSeq)
    .where('seq', '<=', toSeq)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}
