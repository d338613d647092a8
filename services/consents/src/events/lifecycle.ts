import { enqueueEvent, handlersOf, setBlocked, type ConsumerSpec, type Envelope } from '@pdp/shared';
import type { Transaction } from 'kysely';
import type { Deps } from '../config';
import { eraseConsentsOf } from '../db/consents.repository';
import type { Database } from '../db/tables';

/** Blocking and erasure decided by subjects, applied to the consents held here, each with a receipt. */
export function lifecycleConsumer(deps: Deps): ConsumerSpec {
  const common = (event: Envelope, subjectId: string) => ({ source: 'consents' as const, actor: event.actor, subjectId, correlationId: event.id });
  /** An older block or unblock than applied (it came back late) changes nothing, and the newer one's receipt stands. */
  const block = async (trx: Transaction<any>, event: Envelope<'subject.blocked' | 'subject.unblocked'>, blocked: boolean) => {
    const subjectId = event.subjectId;
    if (!subjectId) return;
    const { version } = event.data;
    if (!(await setBlocked(trx as Transaction<Database>, subjectId, blocked, new Date(event.occurredAt), version))) return;
    await enqueueEvent(trx, deps.prefix, {
      ...common(event, subjectId),
      type: 'subject.block_applied',
      data: { subjectId, blocked, service: 'consents', version },
    });
  };
  return {
    name: 'consents-lifecycle',
    ...handlersOf({
      'subject.blocked': (trx, event) => block(trx, event, true),
      'subject.unblocked': (trx, event) => block(trx, event, false),
      'erasure.approved': async (trx, event) => {
        const subjectId = event.subjectId;
        if (!subjectId) return;
        const { data } = event;
        await eraseConsentsOf(trx as Transaction<Database>, subjectId, data.method);
        await enqueueEvent(trx, deps.prefix, {
          ...common(event, subjectId),
          type: 'erasure.receipt',
          data: { actId: data.actId, method: data.method, service: 'consents' },
        });
      },
    }),
  };
}
