import { sql, type Kysely, type Transaction } from 'kysely';
import { DETECTION_RULES } from '../domain/detection';
import { GENESIS_HASH, chainHash, type AuditEntryRecord, type ChainedFields } from '../domain/entry';
import type { AuditLogRow, Database } from './tables';

type Db = Kysely<Database> | Transaction<Database>;

/** A fixed advisory lock id: appends are serialised so the chain has exactly one head. */
const CHAIN_LOCK = 0x5044_4155;

export async function appendEntry(trx: Transaction<Database>, fields: ChainedFields): Promise<void> {
  await sql`select pg_advisory_xact_lock(${CHAIN_LOCK})`.execute(trx);
  const head = await trx.selectFrom('audit_log').select('hash').orderBy('seq', 'desc').limit(1).executeTakeFirst();
  const prevHash = head?.hash ?? GENESIS_HASH;
  await trx
    .insertInto('audit_log')
    .values({
      event_id: fields.eventId,
      event_type: fields.type,
      operation: fields.operation,
      source: fields.source,
      actor_id: fields.actorId,
      actor_roles: JSON.stringify(fields.actorRoles) as unknown as string[],
      subject_id: fields.subjectId,
      correlation_id: fields.correlationId,
      occurred_at: new Date(fields.occurredAt),
      details: JSON.stringify(fields.details),
      prev_hash: prevHash,
      hash: chainHash(prevHash, fields),
    })
    .execute();
}

/** Runs the detection rules for the actor of a new entry; raises at most one incident per window. */
export async function detectIncidents(trx: Transaction<Database>, actorId: string, operation: string): Promise<void> {
  for (const rule of DETECTION_RULES.filter((r) => r.operation === operation)) {
    const since = sql<Date>`now() - make_interval(mins => ${rule.windowMinutes})`;
    const { count } = await trx
      .selectFrom('audit_log')
      .select((eb) => eb.fn.countAll<string>().as('count'))
      .where('actor_id', '=', actorId)
      .where('operation', '=', operation)
      .where('occurred_at', '>', since)
      .executeTakeFirstOrThrow();
    if (Number(count) < rule.threshold) continue;
    const open = await trx
      .selectFrom('incidents')
      .select('id')
      .where('rule', '=', rule.name)
      .where('actor_id', '=', actorId)
      .where('detected_at', '>', since)
      .executeTakeFirst();
    if (!open) {
      await trx
        .insertInto('incidents')
        .values({ rule: rule.name, actor_id: actorId, details: JSON.stringify({ count: Number(count), windowMinutes: rule.windowMinutes }) })
        .execute();
    }
  }
}

export interface EntryFilter {
  subjectIds?: readonly string[];
  afterSeq?: string | null;
  limit: number;
}

export async function listEntries(db: Db, filter: EntryFilter): Promise<AuditEntryRecord[]> {
  let q = db.selectFrom('audit_log').selectAll().orderBy('seq').limit(filter.limit);
  if (filter.subjectIds) q = q.where('subject_id', 'in', [...filter.subjectIds]);
  if (filter.afterSeq) q = q.where('seq', '>', filter.afterSeq);
  return (await q.execute()).map(toRecord);
}

export async function listIncidents(db: Db, limit: number) {
  return db.selectFrom('incidents').selectAll().orderBy('id', 'desc').limit(limit).execute();
}

/** Walks the whole chain in pages, recomputing each hash and link. */
export async function verifyChain(db: Db, pageSize = 2000): Promise<{ valid: boolean; entriesChecked: number; firstInvalidSeq: string | null }> {
  let prevHash = GENESIS_HASH;
  let after = '0';
  let checked = 0;
  for (;;) {
    const page = await listEntries(db, { afterSeq: after, limit: pageSize });
    for (const entry of page) {
      checked += 1;
      if (entry.prevHash !== prevHash || chainHash(prevHash, entry) !== entry.hash) {
        return { valid: false, entriesChecked: checked, firstInvalidSeq: entry.seq };
      }
      prevHash = entry.hash;
    }
    if (page.length < pageSize) return { valid: true, entriesChecked: checked, firstInvalidSeq: null };
    after = page[page.length - 1]!.seq;
  }
}

function toRecord(r: AuditLogRow): AuditEntryRecord {
  return {
    seq: r.seq,
    eventId: r.event_id,
    type: r.event_type,
    operation: r.operation,
    source: r.source,
    actorId: r.actor_id,
    actorRoles: r.actor_roles,
    subjectId: r.subject_id,
    correlationId: r.correlation_id,
    occurredAt: r.occurred_at.toISOString(),
    recordedAt: r.recorded_at.toISOString(),
    details: r.details,
    prevHash: r.prev_hash,
    hash: r.hash,
  };
}
