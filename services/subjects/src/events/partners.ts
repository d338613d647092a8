import type { ConsumerSpec, Envelope } from '@pdp/shared';
import type { Transaction } from 'kysely';
import type { Database } from '../db/tables';

/**
 * The creditors' grants to read an IIN, from appeals' `appeal.forwarded` (which fields went where);
 * a `consent.withdrawn` revokes every grant of that subject. The IIN itself never leaves subjects
 * except to the creditor's own authorised read (`PartnerAppeal.iin`).
 */
export function partnersConsumer(): ConsumerSpec {
  return {
    name: 'subjects-partners',
    types: ['appeal.forwarded', 'consent.withdrawn'],
    async handle(trx, event) {
      const db = trx as Transaction<Database>;
      if (event.type === 'appeal.forwarded') {
        const { data } = event as Envelope<'appeal.forwarded'>;
        if (!event.subjectId) return;
        const row = {
          creditor_id: data.creditorId,
          subject_id: event.subjectId,
          iin: data.fields.includes('IIN'),
          granted_at: new Date(event.occurredAt),
          revoked_at: null,
        };
        await db
          .insertInto('partner_grants')
          .values({ appeal_id: data.appealId, ...row })
          .onConflict((oc) => oc.column('appeal_id').doUpdateSet(row))
          .execute();
        return;
      }
      if (event.type === 'consent.withdrawn' && event.subjectId) {
        await db
          .updateTable('partner_grants')
          .set({ revoked_at: new Date(event.occurredAt) })
          .where('subject_id', '=', event.subjectId)
          .where('revoked_at', 'is', null)
          .execute();
      }
    },
  };
}
