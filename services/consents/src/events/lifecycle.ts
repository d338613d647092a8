import { enqueueEvent, setBlocked, type ConsumerSpec, type Envelope } from '@pdp/shared';
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
      const common = { source: 'consents' as const, actor: event.actor, subjectId, correlationId: event.id };
      if (event.type === 'erasure.approved') {
        const { data } = event as Envelope<'erasure.approved'>;
        await eraseConsentsOf(db, subjectId, data.method);
        await enqueueEvent(trx, deps.prefix, { ...common, type: 'erasure.receipt', data: { actId: data.actId, method: data.method, service: 'consents' } });
        return;
      }
      const blocked = event.type === 'subject.blocked';
      const { version } = (event as Envelope<'subject.blocked'>).data;
      // An older one than applied (it came back late) changes nothing, and the newer one's receipt stands.
      if (!(await setBlocked(db, subjectId, blocked, new Date(event.occurredAt), version))) return;
      await enqueueEvent(trx, deps.prefix, { ...common, type: 'subject.block_applied', data: { subjectId, blocked, service: 'consents', version } });
    },
  };
}
