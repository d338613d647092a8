import { applyBlockEvent, enqueueEvent, eventHeader, type ConsumerSpec, type Envelope } from '@pdp/shared';
import type { Transaction } from 'kysely';
import { z } from 'zod';
import type { Deps } from '../config';
import { nextIds } from '../db/appeals.repository';
import * as repo from '../db/lifecycle.repository';
import type { Database } from '../db/tables';

/**
 * What subjects decides about a person, applied to the appeals they hold, in stream order (a block
 * and its unblock must not swap), each answered with a receipt.
 */
const correctedValueSchema = z.object({ value: z.string().min(1) });

export function lifecycleConsumer(deps: Deps): ConsumerSpec {
  return {
    name: 'appeals-lifecycle',
    types: ['subject.blocked', 'subject.unblocked', 'erasure.approved', 'rectification.approved'],
    async handle(trx, event) {
      const db = trx as Transaction<Database>;
      const subjectId = event.subjectId;
      if (!subjectId) return;
      const common = eventHeader('appeals', event, subjectId);
      switch (event.type) {
        case 'subject.blocked':
        case 'subject.unblocked':
          await applyBlockEvent(trx, event as Envelope<'subject.blocked'>, { prefix: deps.prefix, service: 'appeals' });
          return;
        case 'erasure.approved': {
          const { data } = event as Envelope<'erasure.approved'>;
          // Every hand-off of these appeals (the identity to subjects, the evidence to consents) goes,
          // from this outbox and from the stream, before the receipt says the erasure is done.
          await deps.handoffs.erase(trx, await repo.appealIdsOf(db, subjectId));
          if (data.method === 'DESTROY') await repo.destroyAppealsOf(db, subjectId);
          else await repo.depersonalizeAppealsOf(db, subjectId);
          await enqueueEvent(trx, deps.prefix, { ...common, type: 'erasure.receipt', data: { actId: data.actId, method: data.method, service: 'appeals' } });
          return;
        }
        case 'rectification.approved': {
          const { data } = event as Envelope<'rectification.approved'>;
          if (data.service !== 'appeals' || (data.field !== 'phone' && data.field !== 'email')) return;
          const corrected = await deps.handoffs.open(trx, data.value, deps.config.extra.sealPrivateKey, correctedValueSchema);
          // Gone: the subject was erased before this was applied; the request went with it.
          if (!corrected) return;
          const { value } = corrected;
          await repo.rectifyContact(db, data.field, data.requestId, await contactCorrections(deps, db, subjectId, data.field, value));
          await enqueueEvent(trx, deps.prefix, {
            ...common,
            type: 'rectification.applied',
            data: { requestId: data.requestId, field: data.field, service: 'appeals' },
          });
          return;
        }
        default:
          return;
      }
    },
  };
}

/**
 * The corrected value sealed for each of the subject's appeals (a value is bound to its row), and
 * each previous value opened where it was and sealed again where the contact history keeps it.
 */
async function contactCorrections(
  deps: Deps,
  db: Transaction<Database>,
  subjectId: string,
  field: 'phone' | 'email',
  value: string,
): Promise<repo.ContactCorrection[]> {
  const column = field === 'phone' ? 'phone_enc' : 'email_enc';
  const appeals = await repo.lockContacts(db, subjectId, column);
  const historyIds = await nextIds(db, 'contact_history', appeals.length);
  return appeals.map((a, i) => {
    const historyId = historyIds[i]!;
    const previous = a.value === null ? null : deps.cipher.decrypt(a.value, { table: 'appeals', column, id: a.id });
    return {
      appealId: a.id,
      historyId,
      previousEnc: previous === null ? null : deps.cipher.encrypt(previous, { table: 'contact_history', column: 'previous_enc', id: historyId }),
      valueEnc: deps.cipher.encrypt(value, { table: 'appeals', column, id: a.id }),
    };
  });
}
