import { sql, type Kysely, type Transaction } from 'kysely';
import type { EventType } from './catalog';
import { buildEnvelope, natsSubject, type Envelope, type NewEvent } from './envelope';
import type { PlatformTables } from './migrations';
import { outboxTraceContext } from '../tracing';
import { eventSignerFor, type EventSigner, type SignedEnvelope } from './signing';

export const OUTBOX_CHANNEL = 'pdp_outbox';

/**
 * Writes an event into the service's outbox inside the caller's transaction: the state change and
 * the event commit together or not at all. The NOTIFY is delivered on commit and wakes the relay.
 * The envelope is signed with the producing service's key (`signer`, or the one its running service
 * registered for `prefix`, see signing.ts); an event nobody can sign is not written.
 */
export async function enqueueEvent<T extends EventType>(
  trx: Transaction<any> | Kysely<any>,
  prefix: string,
  input: NewEvent<T>,
  signer?: EventSigner,
): Promise<SignedEnvelope<Envelope<T>>> {
  const [envelope] = await enqueueEvents(trx, prefix, [input], signer);
  return envelope!;
}

/** Several events in one INSERT (e.g. one access record per subject of a batch read). */
export async function enqueueEvents<T extends EventType>(
  trx: Transaction<any> | Kysely<any>,
  prefix: string,
  inputs: NewEvent<T>[],
  signer?: EventSigner,
): Promise<SignedEnvelope<Envelope<T>>[]> {
  if (inputs.length === 0) return [];
  const { envelopes, rows } = signedOutboxRows(prefix, inputs, signer);
  const db = trx as Kysely<PlatformTables>;
  // The rows and the NOTIFY in one statement: one round trip, and outside a transaction one commit
  // instead of two. A staff read writes its access records here before its data leave the service,
  // so this is on every read's path. (One pg_notify per row; PostgreSQL delivers identical
  // notifications of one transaction once.)
  await db.insertInto('outbox').values(rows).returning(notifyRelay().as('notified')).execute();
  return envelopes;
}

/**
 * The signed envelopes of `inputs` and their outbox rows, for a caller that writes them in one
 * statement with its own rows (the intake: the appeal, its hand-offs and its event in one INSERT).
 * Such a statement must also return `notifyRelay()`, or the relay waits for its poll.
 */
export function signedOutboxRows<T extends EventType>(prefix: string, inputs: NewEvent<T>[], signer?: EventSigner) {
  const envelopes = inputs.map((input) => (signer ?? eventSignerFor(prefix, input.source)).sign(buildEnvelope(input)));
  const rows = envelopes.map((e) => {
    const subject = natsSubject(prefix, e.type);
    return { id: e.id, subject, payload: JSON.stringify(e), published_at: null, trace_context: outboxTraceContext(subject, e.id, e.type) };
  });
  return { envelopes, rows };
}

/** Wakes the relay when the statement's transaction commits (LISTEN/NOTIFY, see relay.ts). */
export function notifyRelay() {
  return sql<string>`pg_notify(${OUTBOX_CHANNEL}, '')`;
}
