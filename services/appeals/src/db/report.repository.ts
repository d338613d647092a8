import { sql, type Kysely } from 'kysely';
import type { Database } from './tables';

/** Appeals received in [start, end) and how many of them still wait past their deadline (`appeals_submitted`). */
export async function appealCounts(
  db: Kysely<Database>,
  start: Date,
  end: Date,
  today: string,
  open: readonly string[],
): Promise<{ received: number; overdue: number }> {
  const row = await db
    .selectFrom('appeals')
    .select([
      (eb) => eb.fn.countAll<string>().as('received'),
      sql<string>`count(*) filter (where status in (${sql.join(open)}) and deadline < ${today}::date)`.as('overdue'),
    ])
    .where('submitted_at', '>=', start)
    .where('submitted_at', '<', end)
    .executeTakeFirstOrThrow();
  return { received: Number(row.received), overdue: Number(row.overdue) };
}
