import type { ConsumerSpec, Envelope } from '@pdp/shared';
import type { Transaction } from 'kysely';
import { achievePurpose } from '../db/subjects.repository';
import type { Database } from '../db/tables';
import { PURPOSES } from '../domain/subject';

/** A closed appeal achieves the purpose it was collected for (4.6), which starts the retention term. */
export function purposesConsumer(): ConsumerSpec {
  return {
    name: 'subjects-purposes',
    types: ['appeal.status_changed'],
    async handle(trx, event) {
      const { data, subjectId } = event as Envelope<'appeal.status_changed'>;
      if (subjectId && data.to === 'CLOSED') {
        await achievePurpose(trx as Transaction<Database>, subjectId, PURPOSES.APPEAL_HANDLING, data.appealId);
      }
    },
  };
}
