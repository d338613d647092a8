import { handlersOf, type ConsumerSpec } from '@pdp/shared';
import type { Transaction } from 'kysely';
import { insertReceipt } from '../db/consents.repository';
import type { Database } from '../db/tables';

/** Each holder's confirmation that it stopped what a withdrawn consent covered (`Consent.withdrawalReceipts`). */
export function receiptsConsumer(): ConsumerSpec {
  return {
    name: 'consents-receipts',
    ...handlersOf({
      'consent.withdrawal_applied': async (trx, event) => {
        const { data } = event;
        const db = trx as Transaction<Database>;
        // A receipt for a consent erased meanwhile has nothing to attach to.
        const exists = await db.selectFrom('consents').select('id').where('id', '=', data.consentId).executeTakeFirst();
        if (exists) await insertReceipt(db, data.consentId, data.service, new Date(event.occurredAt));
      },
    }),
  };
}
