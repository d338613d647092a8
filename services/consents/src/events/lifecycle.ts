import { applyBlockEvent, enqueueEvent, eventHeader, type ConsumerSpec, type Envelope } from '@pdp/shared';
import type { Transaction } from 'kysely';
import type { Deps } from '../config';
import { eraseConsentsOf } from '../db/consents.repository';
import type { Database } from '../db/tables';

/** Blocking and erasure decided by subjects, applied to the consents held here, each with a receipt. */
export function lifecycleConsumer(deps: Deps): ConsumerSpec {
  return {
    name: 'consents-lifecycle',
    types: ['subject.blocked', 'subject.unblocked', 'erasure.approved'],
    async handle(trx, event) {
      const db = trx as Transaction<Database>;
      const subjectId = event.subjectId;
      if (!subjectId) return;
      const common = eventHeader('consents', event, subjectId);
      if (event.type === 'erasure.approved') {
        const { data } = event as Envelope<'erasure.approved'>;
        await eraseConsentsOf(db, subjectId, data.method);
        await enqueueEvent(trx, deps.prefix, { ...common, type: 'erasure.receipt', data: { actId: data.actId, method: data.method, service: 'consents' } });
        return;
      }
      await applyBlockEvent(trx, event as Envelope<'subject.blocked'>, { prefix: deps.prefix, service: 'consents' });
    },
  };
}
