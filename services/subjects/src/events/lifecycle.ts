import { enqueueEvent, type ConsumerSpec, type Envelope } from '@pdp/shared';
import type { Transaction } from 'kysely';
import type { Deps } from '../config';
import * as repo from '../db/lifecycle.repository';
import type { Database } from '../db/tables';
import { isComplete, type ErasureMethod } from '../domain/lifecycle';
import { PURPOSES } from '../domain/subject';

/** Receipts from every holder: block confirmations, erasure confirmations, applied rectifications. */
export function receiptsConsumer(deps: Deps): ConsumerSpec {
  return {
    name: 'subjects-receipts',
    types: ['subject.block_applied', 'erasure.receipt', 'rectification.applied'],
    async handle(trx, event) {
      const db = trx as Transaction<Database>;
      if (event.type === 'subject.block_applied') {
        const { data } = event as Envelope<'subject.block_applied'>;
        await repo.upsertBlockReceipt(db, data.subjectId, data.service, data.blocked, new Date(event.occurredAt), data.version);
      } else if (event.type === 'erasure.receipt') {
        const { data } = event as Envelope<'erasure.receipt'>;
        const act = await repo.lockAct(db, data.actId);
        if (!act) return;
        await repo.insertErasureReceipt(db, data.actId, data.service, new Date(event.occurredAt));
        const confirmed = (await repo.receiptsOf(db, [data.actId])).map((r) => r.service);
        if (act.status === 'APPROVED' && isComplete(act.services, confirmed)) {
          await repo.completeAct(db, data.actId);
          await enqueueEvent(trx, deps.prefix, {
            type: 'erasure.completed',
            source: 'subjects',
            actor: event.actor,
            subjectId: act.subject_id,
            correlationId: event.id,
            data: { actId: data.actId, method: act.method as ErasureMethod },
          });
        }
      } else {
        const { data } = event as Envelope<'rectification.applied'>;
        if (data.service !== 'subjects') await repo.setRectificationStatus(db, data.requestId, 'APPLIED');
        // The holder stored the corrected value: the sealed copy this outbox kept for it goes.
        if (data.service === 'appeals') await deps.handoffs.settle(trx, 'appeals', data.requestId);
      }
    },
  };
}

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
      await deps.handoffs.erase(trx, await repo.handoffResourcesOf(trx as Transaction<Database>, subjectId));
      await repo.eraseSubjectData(trx as Transaction<Database>, subjectId, data.method);
      await enqueueEvent(trx, deps.prefix, {
        type: 'erasure.receipt',
        source: 'subjects',
        actor: event.actor,
        subjectId,
        correlationId: event.id,
        data: { actId: data.actId, method: data.method, service: 'subjects' },
      });
    },
  };
}

/** A closed appeal achieves the purpose it was collected for (4.6), which starts the retention term. */
export function purposesConsumer(): ConsumerSpec {
  return {
    name: 'subjects-purposes',
    types: ['appeal.status_changed'],
    async handle(trx, event) {
      const { data, subjectId } = event as Envelope<'appeal.status_changed'>;
      if (subjectId && data.to === 'CLOSED') {
        await repo.achievePurpose(trx as Transaction<Database>, subjectId, PURPOSES.APPEAL_HANDLING, data.appealId);
      }
    },
  };
}
