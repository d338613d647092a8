import { setBlocked, type ConsumerSpec, type Envelope } from '@pdp/shared';
import type { Transaction } from 'kysely';
import type { Deps } from '../config';
import { appendEntries } from '../db/entries.repository';
import type { Database } from '../db/tables';
import { detect } from '../detection';
import { fromEnvelope } from '../domain/entry';
import { evidenceOf } from '../evidence';
import { raiseIncident } from '../incidents';

/** Events handled in one transaction when they are already waiting: one lock, one INSERT, one commit. */
const BATCH = 200;

/**
 * Every domain event of every service (and every refusal at the gateway) becomes one chained audit
 * entry, exactly once; the head is checkpointed every N entries; the audit keeps which subjects are
 * blocked, to notice a read that should not have happened; and the detection rules look at each entry.
 * Events already waiting are recorded together, so the audit keeps up with the intake's peak.
 */
export function recorderConsumer(deps: Deps): ConsumerSpec {
  const record = async (trx: Transaction<any>, events: Envelope[]) => {
    const db = trx as Transaction<Database>;
    const entries = await appendEntries(db, events.map(fromEnvelope));
    await evidenceOf(deps).checkpointEvery(db, entries);
    for (const [i, event] of events.entries()) {
      if ((event.type === 'subject.blocked' || event.type === 'subject.unblocked') && event.subjectId) {
        const { version } = (event as Envelope<'subject.blocked'>).data;
        await setBlocked(db, event.subjectId, event.type === 'subject.blocked', new Date(event.occurredAt), version);
      }
      for (const hit of await detect(deps, db, entries[i]!)) await raiseIncident(deps, db, hit);
    }
  };
  return {
    name: 'audit-recorder',
    types: 'all',
    handle: (trx, event) => record(trx, [event]),
    batch: { max: BATCH, handle: record },
  };
}
