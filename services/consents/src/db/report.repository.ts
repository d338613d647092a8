import type { Kysely } from 'kysely';
import type { Database } from './tables';

/** Consents withdrawn in [start, end) (`consents_withdrawn`). */
export async function withdrawalsBetween(db: Kysely<Database>, start: Date, end: Date): Promise<number> {
  const row = await db
    .selectFrom('consents')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('withdrawn_at', '>=', start)
    .where('withdrawn_at', '<', end)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}
