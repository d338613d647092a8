import { enqueueEvent, eventHeader, type ConsumerSpec, type Envelope } from '@pdp/shared';
import type { Transaction } from 'kysely';
import type { Deps } from '../config';
import { achievePurpose } from '../db/subjects.repository';
import { contractByConsent } from '../db/registration.repository';
import type { Database } from '../db/tables';
import { PURPOSES } from '../domain/subject';

/**
 * What consents decides that changes a purpose here (4.6): a withdrawn consent (6.1.5) ends the
 * processing it covered, so the purpose it served is achieved and subjects confirms with its receipt;
 * a contract whose last open obligation is fulfilled is performed (CONTRACT_PERFORMANCE achieved).
 * Retention then proposes erasure where no other purpose still needs the data.
 */
export function consentsConsumer(deps: Deps): ConsumerSpec {
  return {
    name: 'subjects-consents',
    types: ['consent.withdrawn', 'obligation.fulfilled'],
    async handle(trx, event) {
      const db = trx as Transaction<Database>;
      const subjectId = event.subjectId;
      if (event.type === 'obligation.fulfilled') {
        const { data } = event as Envelope<'obligation.fulfilled'>;
        const contract = data.openObligations === 0 ? await contractByConsent(db, data.consentId) : undefined;
        if (contract) await achievePurpose(db, contract.subject_id, PURPOSES.CONTRACT_PERFORMANCE, contract.id, new Date(event.occurredAt));
        return;
      }
      const { data } = event as Envelope<'consent.withdrawn'>;
      if (!subjectId) return;
      if (data.purpose) await achievePurpose(db, subjectId, data.purpose.code, data.purpose.reference, new Date(event.occurredAt));
      await enqueueEvent(trx, deps.prefix, {
        ...eventHeader('subjects', event, subjectId),
        type: 'consent.withdrawal_applied',
        data: { consentId: data.consentId, service: 'subjects' },
      });
    },
  };
}
