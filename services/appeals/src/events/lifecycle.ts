import { enqueueEvent, handlersOf, setBlocked, type ConsumerSpec, type Envelope } from '@pdp/shared';
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
  const common = (event: Envelope, subjectId: string) => ({ source: 'appeals' as const, actor: event.actor, subjectId, correlationId: event.id });
  /** A block or an unblock; an older one than applied (it came back late) changes nothing, and the newer one's receipt stands. */
  const block = async (trx: Transaction<any>, event: Envelope<'subject.blocked' | 'subject.unblocked'>, blocked: boolean) => {
    const subjectId = event.subjectId;
    if (!subjectId) return;
    const { version } = event.data;
    if (!(await setBlocked(trx as Transaction<Database>, subjectId, blocked, new Date(event.occurredAt), version))) return;
    await enqueueEvent(trx, deps.prefix, {
      ...common(event, subjectId),
      type: 'subject.block_applied',
      data: { subjectId, blocked, service: 'appeals', version },
    });
  };
  return {
    name: 'appeals-lifecycle',
    ...handlersOf({
      'subject.blocked': (trx, event) => block(trx, event, true),
      'subject.unblocked': (trx, event) => block(trx, event, false),
      'erasure.approved': async (trx, event) => {
        const subjectId = event.subjectId;
        if (!subjectId) return;
        const db = trx as Transaction<Database>;
        const { data } = event;
        // Every hand-off of these appeals (the identity to subjects, the evidence to consents) goes,
        // from this outbox and from the stream, before the receipt says the erasure is done.
        await deps.handoffs.erase(trx, await repo.appealIdsOf(db, subjectId));
        if (data.method === 'DESTROY') await repo.destroyAppealsOf(db, subjectId);
        else await repo.depersonalizeAppealsOf(db, subjectId);
        await enqueueEvent(trx, deps.prefix, {
          ...common(event, subjectId),
          type: 'erasure.receipt',
          data: { actId: data.actId, method: data.method, service: 'appeals' },
        });
      },
      'rectification.approved': async (trx, event) => {
        const subjectId = event.subjectId;
        const { data } = event;
        if (!subjectId || data.service !== 'appeals' || (data.field !== 'phone' && data.field !== 'email')) return;
        const db = trx as Transaction<Database>;
        const corrected = await deps.handoffs.open(trx, data.value, deps.config.extra.sealPrivateKey, correctedValueSchema, event.occurredAt);
        // Erased: the subject was erased before this was applied; the request went with it.
        if (!corrected) return;
        const { value } = corrected;
        await repo.rectifyContact(db, data.field, data.requestId, await contactCorrections(deps, db, subjectId, data.field, value));
        await enqueueEvent(trx, deps.prefix, {
          ...common(event, subjectId),
          type: 'rectification.applied',
          data: { requestId: data.requestId, field: data.field, service: 'appeals' },
        });
      },
    }),
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
