import type { Kysely, Transaction } from 'kysely';
import type { Database } from './tables';

type Db = Kysely<Database> | Transaction<Database>;

/** The recorder saw these stream messages (in its transaction): reconciliation looks for the others. */
export async function markHandled(trx: Db, streamSeqs: number[]): Promise<void> {
  if (streamSeqs.length === 0) return;
  await trx
    .insertInto('audit_stream_seqs')
    .values(streamSeqs.map((s) => ({ stream_seq: String(s) })))
    .onConflict((oc) => oc.column('stream_seq').doNothing())
    .execute();
}

export async function handledBetween(db: Db, after: number, through: number): Promise<Set<number>> {
  const rows = await db
    .selectFrom('audit_stream_seqs')
    .select('stream_seq')
    .where('stream_seq', '>', String(after))
    .where('stream_seq', '<=', String(through))
    .execute();
  return new Set(rows.map((r) => Number(r.stream_seq)));
}

export async function reconciledThrough(db: Db, consumer: string): Promise<number | null> {
  const row = await db.selectFrom('audit_reconciliation').select('through_seq').where('consumer', '=', consumer).executeTakeFirst();
  return row ? Number(row.through_seq) : null;
}

/** Everything up to `through` is accounted for: remember that, and forget the marks below it. */
export async function advanceReconciliation(db: Kysely<Database>, consumer: string, through: number): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await trx
      .insertInto('audit_reconciliation')
      .values({ consumer, through_seq: String(through) })
      .onConflict((oc) => oc.column('consumer').doUpdateSet({ through_seq: String(through), updated_at: new Date() }))
      .execute();
    await trx.deleteFrom('audit_stream_seqs').where('stream_seq', '<=', String(through)).execute();
  });
}
