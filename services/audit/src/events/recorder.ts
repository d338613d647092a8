import type { ConsumerSpec } from '@pdp/shared';
import type { Transaction } from 'kysely';
import { appendEntry, detectIncidents } from '../db/audit.repository';
import type { Database } from '../db/tables';
import { fromEnvelope } from '../domain/entry';

/** Every domain event of every service becomes one chained audit entry, exactly once. */
export function recorderConsumer(): ConsumerSpec {
  return {
    name: 'audit-recorder',
    types: 'all',
    async handle(trx, event) {
      const db = trx as Transaction<Database>;
      const fields = fromEnvelope(event);
      await appendEntry(db, fields);
      await detectIncidents(db, fields.actorId, fields.operation);
    },
  };
}
