import { enqueueEvent, eventHeader, type ConsumerSpec, type Envelope } from '@pdp/shared';
import type { Transaction } from 'kysely';
import type { Deps } from '../config';
import { eraseSubjectData, handoffResourcesOf } from '../db/erasure.repository';
import type { Database } from '../db/tables';

/** subjects is a holder too: it carries out approved acts on its own data like every other service. */
export function erasureConsumer(deps: Deps): ConsumerSpec {
  return {
    name: 'subjects-erasure',
    types: ['erasure.approved'],
    async handle(trx, event) {
      const { data, subjectId } = event as Envelope<'erasure.approved'>;
      if (!subjectId) return;
      // Hand-offs of the subject's data (corrected values to appeals; identities and evidence of its
      // appeals, which appeals erases too) go from the outbox and the stream before the receipt.
      await deps.handoffs.erase(trx, await handoffResourcesOf(trx as Transaction<Database>, subjectId));
      await eraseSubjectData(trx as Transaction<Database>, subjectId, data.method);
      await enqueueEvent(trx, deps.prefix, {
        ...eventHeader('subjects', event, subjectId),
        type: 'erasure.receipt',
        data: { actId: data.actId, method: data.method, service: 'subjects' },
      });
    },
  };
}
