import { handlersOf, NotReadyError, type ConsumerSpec } from '@pdp/shared';
import type { Deps } from '../config';
import type { Transaction } from 'kysely';
import { linkAppealToSubject } from '../db/appeals.repository';
import type { Database } from '../db/tables';

/**
 * Attaches each appeal to the subject that subjects registered or found for it. subjects stored the
 * identity handed off to it, so the sealed copy this outbox kept for it goes.
 */
export function subjectLinkConsumer(deps: Pick<Deps, 'handoffs'>): ConsumerSpec {
  return {
    name: 'appeals-subject-link',
    ...handlersOf({
      'subject.appeal_linked': async (trx, { data: { appealId, subjectId } }) => {
        const updated = await linkAppealToSubject(trx as Transaction<Database>, appealId, subjectId);
        if (updated === 0) throw new NotReadyError('appeal not found');
        await deps.handoffs.settle(trx, 'subjects', appealId);
      },
    }),
  };
}
