import { enqueueEvent, eventHeader, type ConsumerSpec, type Envelope } from '@pdp/shared';
import type { Transaction } from 'kysely';
import type { Deps } from '../config';
import type { Database } from '../db/tables';

/**
 * Templates whose consent allows transfer to third parties, for events recorded before consents
 * said so itself (`thirdPartyTransfer`): Annex 2 gives "the right to transfer to third parties".
 */
const TRANSFER_TEMPLATES = new Set(['ANNEX2_APPLICANT']);

/**
 * What forwarding needs to know from consents, kept here from their events (no call to consents):
 * which consents allow transfer to third parties, whose they are, and whether they still stand. A
 * withdrawal closes every partner view of the subject's appeals and stops forwarding at once, and
 * appeals confirms it with its receipt. In stream order, so a withdrawal never precedes its consent.
 */
export function consentsProjectionConsumer(deps: Deps): ConsumerSpec {
  return {
    name: 'appeals-consents',
    types: ['consent.recorded', 'consent.subject_linked', 'consent.withdrawn'],
    async handle(trx, event) {
      const db = trx as Transaction<Database>;
      switch (event.type) {
        case 'consent.recorded': {
          const { data } = event as Envelope<'consent.recorded'>;
          await db
            .insertInto('transfer_consents')
            .values({
              consent_id: data.consentId,
              appeal_id: data.appealId,
              subject_id: event.subjectId,
              allows_transfer: data.thirdPartyTransfer ?? TRANSFER_TEMPLATES.has(data.templateCode),
              withdrawn_at: null,
            })
            .onConflict((oc) => oc.column('consent_id').doNothing())
            .execute();
          return;
        }
        case 'consent.subject_linked': {
          const { data } = event as Envelope<'consent.subject_linked'>;
          await db.updateTable('transfer_consents').set({ subject_id: event.subjectId }).where('consent_id', '=', data.consentId).execute();
          return;
        }
        case 'consent.withdrawn': {
          const { data } = event as Envelope<'consent.withdrawn'>;
          await db
            .updateTable('transfer_consents')
            .set({ withdrawn_at: new Date(event.occurredAt) })
            .where('consent_id', '=', data.consentId)
            .execute();
          await enqueueEvent(trx, deps.prefix, {
            ...eventHeader('appeals', event, event.subjectId),
            type: 'consent.withdrawal_applied',
            data: { consentId: data.consentId, service: 'appeals' },
          });
          return;
        }
        default:
          return;
      }
    },
  };
}
