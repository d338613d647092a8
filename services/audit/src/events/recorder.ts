import { applyBlockEvent, type ConsumerSpec, type Delivery, type Envelope, type Reconciliation } from '@pdp/shared';
import type { Kysely, Transaction } from 'kysely';
import type { Deps } from '../config';
import { advanceReconciliation, handledBetween, markHandled, reconciledThrough } from '../db/reconciliation.repository';
import type { Database } from '../db/tables';
import { detect } from '../detection.service';
import { fromEnvelope } from '../domain/entry';
import { evidenceOf } from '../evidence';
import { raiseIncident } from '../incidents.service';

/** Events handled in one transaction when they are already waiting: one lock, one INSERT, one commit. */
const BATCH = 200;
const NAME = 'audit-recorder';

/**
 * Every domain event of every service (and every refusal at the gateway) becomes one chained audit
 * entry, exactly once — but the audit's own checkpoints (`audit.checkpointed`, its witness: chaining
 * them would make a new head to sign each time); each append signs its head (evidence.ts); the audit
 * keeps which subjects are blocked, to notice a read that should not have happened; and the detection
 * rules look at each entry. Events already waiting are recorded together, so the audit keeps up with
 * the intake's peak. It notes which stream messages it saw, so that one acknowledged by someone else
 * is found and recorded after all (`reconciliation`).
 */
export function recorderConsumer(deps: Deps): ConsumerSpec {
  const record = async (trx: Transaction<any>, events: Envelope[], deliveries: Delivery[]) => {
    const db = trx as Transaction<Database>;
    await markHandled(
      db,
      deliveries.flatMap((d) => (d.streamSeq === null ? [] : [d.streamSeq])),
    );
    const recorded = events.filter((e) => e.type !== 'audit.checkpointed');
    if (recorded.length === 0) return;
    const entries = await evidenceOf(deps).append(db, recorded.map(fromEnvelope));
    for (const [i, event] of recorded.entries()) {
      if (event.type === 'subject.blocked' || event.type === 'subject.unblocked') await applyBlockEvent(trx, event as Envelope<'subject.blocked'>, null);
      for (const hit of await detect(deps, db, entries[i]!)) await raiseIncident(deps, db, hit);
    }
  };
  return {
    name: NAME,
    types: 'all',
    handle: (trx, event, delivery) => record(trx, [event], [delivery]),
    batch: { max: BATCH, handle: record },
    reconcile: reconciliation(deps),
  };
}

/**
 * The stream's sequence numbers of everything acknowledged to the recorder must all be ones it saw.
 * A missing one was taken by someone else with the consumer's credentials: it is read back from the
 * stream and recorded; one the stream no longer has (expired, deleted) can never be, and is an
 * `AUDIT_GAP` incident — with the numbers, since there is no payload to show.
 */
function reconciliation(deps: Deps): Reconciliation {
  const db = deps.db as Kysely<Database>;
  return {
    everyMs: deps.config.extra.reconcileSeconds * 1000,
    handled: (after, through) => handledBetween(db, after, through),
    progress: () => reconciledThrough(db, NAME),
    advance: (through) => advanceReconciliation(db, NAME, through),
    gone: (runs) =>
      db.transaction().execute(async (trx) => {
        for (const { from, to } of runs) {
          await raiseIncident(deps, trx, {
            rule: 'AUDIT_GAP',
            key: `stream:${from}-${to}`,
            actorId: 'system:audit-reconciliation',
            subjectId: null,
            evidence: [],
            details: { fromStreamSeq: from, toStreamSeq: to, messages: to - from + 1 },
            windowMinutes: 24 * 60,
          });
        }
      }),
  };
}
