import { enqueueEvent, eventHeader, type ConsumerSpec, type Envelope } from '@pdp/shared';
import type { Transaction } from 'kysely';
import type { Deps } from '../config';
import { upsertBlockReceipt } from '../db/blocks.repository';
import { completeAct, insertErasureReceipt, lockAct, receiptsOf } from '../db/erasure.repository';
import { setRectificationStatus } from '../db/rectification.repository';
import type { Database } from '../db/tables';
import { isComplete, type ErasureMethod } from '../domain/lifecycle';

/** Receipts from every holder: block confirmations, erasure confirmations, applied rectifications. */
export function receiptsConsumer(deps: Deps): ConsumerSpec {
  return {
    name: 'subjects-receipts',
    types: ['subject.block_applied', 'erasure.receipt', 'rectification.applied'],
    async handle(trx, event) {
      const db = trx as Transaction<Database>;
      if (event.type === 'subject.block_applied') {
        const { data } = event as Envelope<'subject.block_applied'>;
        await upsertBlockReceipt(db, data.subjectId, data.service, data.blocked, new Date(event.occurredAt), data.version);
      } else if (event.type === 'erasure.receipt') {
        const { data } = event as Envelope<'erasure.receipt'>;
        const act = await lockAct(db, data.actId);
        if (!act) return;
        await insertErasureReceipt(db, data.actId, data.service, new Date(event.occurredAt));
        const confirmed = (await receiptsOf(db, [data.actId])).map((r) => r.service);
        if (act.status === 'APPROVED' && isComplete(act.services, confirmed)) {
          await completeAct(db, data.actId);
          await enqueueEvent(trx, deps.prefix, {
            ...eventHeader('subjects', event, act.subject_id),
            type: 'erasure.completed',
            data: { actId: data.actId, method: act.method as ErasureMethod },
          });
        }
      } else {
        const { data } = event as Envelope<'rectification.applied'>;
        if (data.service !== 'subjects') await setRectificationStatus(db, data.requestId, 'APPLIED');
      }
    },
  };
}
