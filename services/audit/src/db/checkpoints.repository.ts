import { sql, type Kysely, type Transaction } from 'kysely';
import type { Checkpoint } from '../domain/chain';
import type { Database, VerificationRow } from './tables';

type Db = Kysely<Database> | Transaction<Database>;

const signedAtText = sql<string>`to_char(signed_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

function selectCheckpoints(db: Db) {
  return db.selectFrom('audit_checkpoints').select(['seq', 'origin', 'hash', 'key_id', 'signature', signedAtText.as('signed')]);
}

function toCheckpoint(r: { seq: string; origin: string; hash: string; key_id: string; signature: string; signed: string }): Checkpoint {
  return { seq: r.seq, origin: r.origin, hash: r.hash, signedAt: r.signed, keyId: r.key_id, signature: r.signature };
}

export async function latestCheckpoint(db: Db): Promise<Checkpoint | null> {
  const row = await selectCheckpoints(db).orderBy('seq', 'desc').limit(1).executeTakeFirst();
  return row ? toCheckpoint(row) : null;
}

/** Stores a checkpoint; one already stored at that seq (another instance's, a forced one) stays. */
export async function insertCheckpoint(trx: Db, cp: Checkpoint): Promise<void> {
  await trx
    .insertInto('audit_checkpoints')
    .values({ seq: cp.seq, origin: cp.origin, hash: cp.hash, signed_at: new Date(cp.signedAt), key_id: cp.keyId, signature: cp.signature })
    .onConflict((oc) => oc.column('seq').doNothing())
    .execute();
}

/** Checkpoints after `afterSeq`, oldest first (`auditCheckpoints`). */
export async function listCheckpoints(db: Db, afterSeq: string, limit: number): Promise<Checkpoint[]> {
  return (await selectCheckpoints(db).where('seq', '>', afterSeq).orderBy('seq').limit(limit).execute()).map(toCheckpoint);
}

/** Every checkpoint in (afterSeq, throughSeq]: what a verification run checks the entries against. */
export async function checkpointsBetween(db: Db, afterSeq: string, throughSeq: string): Promise<Checkpoint[]> {
  return (await selectCheckpoints(db).where('seq', '>', afterSeq).where('seq', '<=', throughSeq).orderBy('seq').execute()).map(toCheckpoint);
}

/** The newest checkpoints at or below `seq`, newest first (the caller checks their signatures). */
export async function recentCheckpointsBelow(db: Db, seq: string, limit: number): Promise<Checkpoint[]> {
  return (await selectCheckpoints(db).where('seq', '<=', seq).orderBy('seq', 'desc').limit(limit).execute()).map(toCheckpoint);
}

export async function checkpointAt(db: Db, seq: string): Promise<Checkpoint | null> {
  const row = await selectCheckpoints(db).where('seq', '=', seq).executeTakeFirst();
  return row ? toCheckpoint(row) : null;
}

export async function insertVerification(db: Db, row: Omit<VerificationRow, 'id'>): Promise<void> {
  await db.insertInto('audit_verifications').values(row).execute();
}

/** The newest verification records, newest first (the caller checks their signatures). */
export async function recentVerifications(db: Db, limit: number): Promise<VerificationRow[]> {
  return db.selectFrom('audit_verifications').selectAll().orderBy('id', 'desc').limit(limit).execute();
}
