import { kazakhstanDateOf } from '@pdp/shared';
import { sql, type Kysely } from 'kysely';
import type { Database } from './tables';

/**
 * Rectification requests received in [start, end) and how many missed their deadline: decided after
 * it, or still pending past it (`rectification_page` serves the range).
 */
export async function rightsRequestCounts(db: Kysely<Database>, start: Date, end: Date, today: string): Promise<{ received: number; overdue: number }> {
  const row = await db
    .selectFrom('rectification_requests')
    .select([
      (eb) => eb.fn.countAll<string>().as('received'),
      sql<string>`count(*) filter (where (reviewed_at is null and deadline < ${today}::date) or ${kazakhstanDateOf('reviewed_at')} > deadline)`.as('overdue'),
    ])
    .where('requested_at', '>=', start)
    .where('requested_at', '<', end)
    .executeTakeFirstOrThrow();
  return { received: Number(row.received), overdue: Number(row.overdue) };
}

/** Erasure acts completed in [start, end) (`erasure_acts_completed`). */
export async function erasureActsCompleted(db: Kysely<Database>, start: Date, end: Date): Promise<number> {
  const row = await db
    .selectFrom('erasure_acts')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('completed_at', '>=', start)
    .where('completed_at', '<', end)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}
