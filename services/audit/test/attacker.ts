import { sql, type Kysely } from 'kysely';
import { entriesBetween } from '../src/db/entries.repository';
import type { Database } from '../src/db/tables';
import { entryHash, GENESIS_HASH, type ChainEntry } from '../src/domain/chain';

/**
 * An auditor's attacker: the audit's database login, which can disable the append-only triggers and
 * rewrite rows, and knows the (public) hashing rule — but holds no checkpoint key.
 */
export async function asAttacker(db: Kysely<any>, tamper: () => Promise<void>): Promise<void> {
  const tables = ['audit_log', 'audit_checkpoints', 'audit_verifications'];
  for (const t of tables) await sql`alter table ${sql.table(t)} disable trigger user`.execute(db);
  try {
    await tamper();
  } finally {
    for (const t of tables) await sql`alter table ${sql.table(t)} enable trigger user`.execute(db);
  }
}

/** Recomputes every hash and link of `entries`, numbered from `fromSeq` on, after `prevHash`. */
export function rechain(entries: ChainEntry[], fromSeq: bigint, prevHash: string): ChainEntry[] {
  let prev = prevHash;
  return entries.map((e, i) => {
    const next = { ...e, seq: String(fromSeq + BigInt(i)), prevHash: prev };
    next.hash = entryHash(next);
    prev = next.hash;
    return next;
  });
}

/** The log from `fromSeq` on, as stored. */
export async function tailFrom(db: Kysely<any>, fromSeq: bigint): Promise<ChainEntry[]> {
  return entriesBetween(db as Kysely<Database>, String(fromSeq - 1n), '9223372036854775807', 100_000);
}

/**
 * Replaces the log from `fromSeq` on with `entries` (triggers disabled by the caller): numbered on
 * from `fromSeq` and re-chained from the entry before, so that hashes and links all hold — what a
 * rewrite by someone who knows the hashing rule looks like. The checkpoints of the replaced stretch
 * are removed too: the attacker leaves nothing in the database that contradicts the rewrite.
 */
export async function replaceTail(db: Kysely<any>, fromSeq: bigint, entries: ChainEntry[]): Promise<ChainEntry[]> {
  const before = fromSeq > 1n ? (await entriesBetween(db as Kysely<Database>, String(fromSeq - 2n), String(fromSeq - 1n), 1))[0] : null;
  const placed = rechain(entries, fromSeq, before?.hash ?? GENESIS_HASH);
  await sql`delete from audit_log where seq >= ${String(fromSeq)}`.execute(db);
  await sql`delete from audit_checkpoints where seq >= ${String(fromSeq)}`.execute(db);
  if (placed.length === 0) return placed;
  await (db as Kysely<Database>)
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
        recorded_at: new Date(e.recordedAt),
        details: JSON.stringify(e.details),
        prev_hash: e.prevHash,
        hash: e.hash,
        head_key_id: null,
        head_signature: null,
      })),
    )
    .execute();
  return placed;
}
