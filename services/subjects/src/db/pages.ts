import type { CursorKey } from '@pdp/shared';
import { sql } from 'kysely';

/**
 * `(time, id) > cursor`, with the cursor row's own timestamp read back (PostgreSQL keeps
 * microseconds, a cursor's ISO text only milliseconds); the cursor's time serves if that row is gone.
 */
export function afterKey(table: 'erasure_acts' | 'rectification_requests', column: 'proposed_at' | 'requested_at', after: CursorKey) {
  return sql<boolean>`(${sql.ref(column)}, id) > (coalesce((select ${sql.ref(column)} from ${sql.table(table)} where id::text = ${after.id}), ${after.at}::timestamptz), ${after.id}::uuid)`;
}
