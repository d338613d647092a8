/** What a durable consumer is made of: its spec, options, errors a handler throws, and its typed handlers (consumer.ts runs it). */
import type { Kysely, Transaction } from 'kysely';
import type { JetStreamClient, JetStreamManager } from 'nats';
import type { Logger } from '../logger';
import type { EventType, ServiceName } from './catalog';
import type { Envelope } from './envelope';
import type { EventSigner, EventVerifier } from './signing';

/** Thrown by a handler whose preconditions are not met yet (e.g. an event it depends on is late). */
export class NotReadyError extends Error {
  override name = 'NotReadyError';
}

/** Thrown by a handler for an event that can never be applied (bad data): parked at once, no retries. */
export class PermanentError extends Error {
  override name = 'PermanentError';
}

/** Where an event came from: its sequence number in the stream (null for a parked event replayed from its row). */
export interface Delivery {
  streamSeq: number | null;
}

export type EventHandler = (trx: Transaction<any>, event: Envelope, delivery: Delivery) => Promise<void>;

/** A handler per event type, each given the envelope of its own type (no casts in the handlers). */
export type EventHandlers = { [T in EventType]?: (trx: Transaction<any>, event: Envelope<T>, delivery: Delivery) => Promise<void> };

/**
 * A consumer's `types` and `handle` from a typed map of handlers: it takes exactly the types it has a
 * handler for, and each event goes to its type's handler.
 */
export function handlersOf(handlers: EventHandlers): Pick<ConsumerSpec, 'types' | 'handle'> {
  const types = Object.keys(handlers) as EventType[];
  return {
    types,
    handle: async (trx, event, delivery) => {
      const handler = handlers[event.type] as EventHandler | undefined;
      if (handler) await handler(trx, event, delivery);
    },
  };
}

/**
 * A consumer that notices messages acknowledged without being handled — pulled and acked by another
 * client holding its credentials — and handles them after all (see `EventConsumer.reconcile`). The
 * service keeps which stream sequence numbers its handler saw, in its own database, in the handler's
 * transaction; everything the stream acknowledges for the consumer must be among them, or be read
 * back from the stream by its number. Only for a consumer of every type (`types: 'all'`): one of some
 * types acks the others unhandled.
 */
export interface Reconciliation {
  /** How often a round runs. */
  everyMs: number;
  /** The stream sequence numbers in (after, through] the handler saw (recorded by the service). */
  handled(after: number, through: number): Promise<Set<number>>;
  /** Where the last round got to; null before the first. */
  progress(): Promise<number | null>;
  /** Everything up to `through` is accounted for (the service may forget what it kept below it). */
  advance(through: number): Promise<void>;
  /** Runs of sequence numbers acknowledged but never handled, and gone from the stream (expired, deleted). */
  gone(runs: Array<{ from: number; to: number }>): Promise<void>;
}

export interface ConsumerSpec {
  /** Durable name: `<service>-<purpose>`. */
  name: string;
  types: EventType[] | 'all';
  handle: EventHandler;
  /**
   * Optional: how a batch is applied. Events already waiting are handled up to `max` at a time, in
   * stream order, in one transaction with all their inbox rows (one commit instead of one each); by
   * default up to DEFAULT_BATCH, each through `handle` in turn. If the batch fails, each of its events
   * goes through `handle` on its own, with the usual retries and parking.
   */
  batch?: { max: number; handle?: (trx: Transaction<any>, events: Envelope[], deliveries: Delivery[]) => Promise<void> };
  /** Optional: fill gaps left by someone else acknowledging this consumer's messages. */
  reconcile?: Reconciliation;
}

/**
 * Events a consumer applies in one transaction when they are already waiting. Under load a commit per
 * event (and a BEGIN, an inbox INSERT and a COMMIT round trip each) was most of a consumer's cost
 * (bench/intake); when idle a batch is the one event that came.
 */
export const DEFAULT_BATCH = 64;

export interface ConsumerOptions {
  db: Kysely<any>;
  js: JetStreamClient;
  jsm: JetStreamManager;
  stream: string;
  prefix: string;
  logger: Logger;
  /** The consuming service: it records what it rejects as its own `event.rejected`, signed by `signer`. */
  service: ServiceName;
  signer: EventSigner;
  /** Checks owner and signature of every event before the handler sees it. */
  verifier: EventVerifier;
  /** After this many failed deliveries a message is parked for ops. */
  maxAttempts?: number;
  /** How long a delivered message may stay unacknowledged (a killed instance's) before it is redelivered. */
  ackWaitMs?: number;
  /**
   * The service's database: an ordered consumer (`ORDERED_TYPES`) consumes only while its instance
   * holds the consumer's advisory lock on a connection of its own, so one instance at a time reads it
   * in order. Without it (a single instance, tests) it simply consumes.
   */
  databaseUrl?: string;
  /** How often an instance without the lock tries to take it (1 s). */
  leaderPollMs?: number;
}

/**
 * Types whose order matters to their consumers: a block and its unblock must not swap, nor receipts of
 * one holder. A consumer that takes any of them runs in one instance of its service at a time (the
 * holder of a PostgreSQL advisory lock; see `ConsumerOptions.databaseUrl`), which handles the stream
 * in order; another instance takes over when it dies. The others (intake, the audit, whose chain is
 * serialised by a lock anyway) are shared out between instances in parallel.
 */
export const ORDERED_TYPES: readonly EventType[] = [
  'subject.blocked',
  'subject.unblocked',
  'erasure.approved',
  'rectification.approved',
  'subject.block_applied',
  'erasure.receipt',
  'rectification.applied',
  'appeal.status_changed',
];

export function isOrderedConsumer(types: ConsumerSpec['types']): boolean {
  return types !== 'all' && types.some((type) => ORDERED_TYPES.includes(type));
}

/** What an instance's consumer is doing (the ops view's `consuming`). */
export type ConsumerState = 'consuming' | 'standby' | 'stopped';

/** What a replay of a parked event came to (`event.replayed`). */
export type ReplayOutcome = 'APPLIED' | 'DUPLICATE' | 'FAILED' | 'REJECTED';

/** A parked row, as the ops view hands it to its consumer for a replay. */
export interface ParkedRow {
  id: string;
  event_id: string | null;
  subject: string;
  payload: string;
}
