import type { Kysely, Transaction } from 'kysely';
import type { Database } from './tables';

/** Blocks (6.1.3): subjects' record of each block and unblock, and the holders' receipts of them. */

type Db = Kysely<Database> | Transaction<Database>;

export async function openBlock(trx: Db, subjectId: string, reason: string, by: string): Promise<void> {
  await trx
    .insertInto('blocks')
    .values({ subject_id: subjectId, reason, blocked_by: by, unblock_reason: null, unblocked_by: null, unblocked_at: null })
    .execute();
}

export async function closeBlock(trx: Db, subjectId: string, reason: string, by: string): Promise<void> {
  await trx
    .updateTable('blocks')
    .set({ unblock_reason: reason, unblocked_by: by, unblocked_at: new Date() })
    .where('subject_id', '=', subjectId)
    .where('unblocked_at', 'is', null)
    .execute();
}

/** Blocks or unblocks, and numbers it: the version the events carry (see applyBlockEvent in @pdp/shared). */
export async function setBlockStatus(trx: Db, id: string, blocked: boolean): Promise<number> {
  const row = await trx
    .updateTable('subjects')
    .set((eb) => ({ status: blocked ? 'BLOCKED' : 'ACTIVE', updated_at: new Date(), block_version: eb('block_version', '+', 1) }))
    .where('id', '=', id)
    .returning('block_version')
    .executeTakeFirstOrThrow();
  return row.block_version;
}

/**
 * Keeps the latest confirmation per holder; an older receipt never overwrites a newer one.
 * A holder's latest block state. A receipt with a version replaces only an older one (a receipt that
 * comes late changes nothing); one without (written before versions) goes by time, as it always did.
 */
export async function upsertBlockReceipt(trx: Db, subjectId: string, service: string, blocked: boolean, at: Date, version?: number): Promise<void> {
  await trx
    .insertInto('block_receipts')
    .values({ subject_id: subjectId, service, blocked, applied_at: at, version: version ?? null })
    .onConflict((oc) =>
      oc
        .columns(['subject_id', 'service'])
        .doUpdateSet({ blocked, applied_at: at, version: version ?? null })
        .where((eb) =>
          version === undefined
            ? eb('block_receipts.applied_at', '<=', at)
            : eb.or([eb('block_receipts.version', 'is', null), eb('block_receipts.version', '<', version)]),
        ),
    )
    .execute();
}

export async function blockReceiptsOf(db: Db, subjectIds: readonly string[]) {
  if (subjectIds.length === 0) return [];
  return db
    .selectFrom('block_receipts')
    .selectAll()
    .where('subject_id', 'in', [...subjectIds])
    .orderBy('service')
    .execute();
}

/** Every block of several subjects, oldest first: reasons, who and when (6.1.3). */
export async function blocksOf(db: Db, subjectIds: readonly string[]) {
  if (subjectIds.length === 0) return [];
  return db
    .selectFrom('blocks')
    .selectAll()
    .where('subject_id', 'in', [...subjectIds])
    .orderBy('blocked_at')
    .orderBy('id')
    .execute();
}
