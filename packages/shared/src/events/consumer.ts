import { sql, type Kysely, type Transaction } from 'kysely';
import pg from 'pg';
import { AckPolicy, DeliverPolicy, type ConsumerMessages, type JetStreamClient, type JetStreamManager, type JsMsg, type StoredMsg } from 'nats';
import { safeError, type Logger } from '../logger';
import { eventsConsumed } from '../metrics';
import { SERVICES, isEventType, type EventType, type RejectionReason, type ServiceName } from './catalog';
import { parseEnvelope, type Envelope } from './envelope';
import { isMessageNotFound } from './handoff';
import type { PlatformTables } from './migrations';
import { enqueueEvent } from './outbox';
import type { EventSigner, EventVerifier } from './signing';
import { traceConsume, type TracedDelivery } from '../tracing';

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

/**
 * What the consumer uses of a delivered message. A message read back from the stream by its number
 * (a reconciled gap) is given the same shape, so it takes exactly the path a delivery takes.
 */
type Delivered = Pick<JsMsg, 'subject' | 'headers' | 'ack' | 'nak' | 'term' | 'json' | 'string'> & {
  info: Pick<JsMsg['info'], 'deliveryCount' | 'streamSequence'>;
};

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

/** What a replay of a parked event came to (`event.replayed`). */
export type ReplayOutcome = 'APPLIED' | 'DUPLICATE' | 'FAILED' | 'REJECTED';

/** A parked row, as the ops view hands it to its consumer for a replay. */
export interface ParkedRow {
  id: string;
  event_id: string | null;
  subject: string;
  payload: string;
}

/**
 * A failure of the infrastructure, not of the event: the database or NATS restarting, a connection
 * cut, a deadlock. Such an event is retried for as long as it takes and never parked — only an event
 * that fails on its own merits counts towards `maxAttempts`.
 */
export function isTransient(err: unknown): boolean {
  const e = err as { code?: unknown; name?: unknown; message?: unknown } | null;
  if (!e || typeof e !== 'object') return false;
  const code = typeof e.code === 'string' ? e.code : '';
  // SQLSTATE: connection exceptions (08…), shutdown and restart (57P0x), too many connections, serialization, deadlock.
  if (/^08[0-9A-Z]{3}$/.test(code) || /^57P0[1-4]$/.test(code) || ['53300', '40001', '40P01'].includes(code)) return true;
  if (['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENOTFOUND', 'EAI_AGAIN'].includes(code)) return true;
  // nats.js: timeouts, no responders (503), a closed or reconnecting connection.
  if (e.name === 'NatsError' || ['TIMEOUT', '503', 'CONNECTION_CLOSED', 'CONNECTION_DRAINING', 'DISCONNECT'].includes(code)) return true;
  const message = typeof e.message === 'string' ? e.message : '';
  return /Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error|terminating connection/i.test(
    message,
  );
}

export function backoffMs(deliveryCount: number): number {
  return Math.min(30_000, 250 * 2 ** Math.max(0, deliveryCount - 1));
}

/** The actor of `event.rejected`: the verification itself, not whoever the message claims to be. */
const VERIFICATION_ACTOR = { id: 'system:event-verification', roles: [] as string[] };

/**
 * A durable pull consumer with an inbox: the handler's effect and the inbox row (consumer, event id)
 * commit in one transaction, and only then is the message acked. A redelivered or duplicated event
 * finds its inbox row and changes nothing. Failures are nak'ed with exponential backoff; after
 * `maxAttempts` the message is parked in `parked_events`. A message that is malformed, or that its
 * type's owner did not sign unaltered (see signing.ts), is parked at once, before any inbox row or
 * handler, together with an `event.rejected` for the audit.
 */
export class EventConsumer {
  private messages: ConsumerMessages | null = null;
  private loop: Promise<void> | null = null;
  private stopping = false;
  private wakeLeader: (() => void) | null = null;

  /**
   * An ordered consumer in one instance at a time: it consumes while it holds the advisory lock
   * `pdp-consumer:<name>` on a connection of its own, and stops when that connection is lost (a
   * database restart; a killed instance loses it with its process), after which whichever instance
   * takes the lock next goes on from the last acknowledged message.
   */
  private async lead(databaseUrl: string, consume: () => Promise<ConsumerMessages>): Promise<void> {
    const pollMs = this.opts.leaderPollMs ?? 1000;
    const pause = () =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, pollMs);
        this.wakeLeader = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    let session: { client: pg.Client; gone: Promise<void>; lost: () => void } | null = null;
    const end = async () => {
      await session?.client.end().catch(() => undefined);
      session = null;
    };
    while (!this.stopping) {
      if (!session) {
        const client = new pg.Client({ connectionString: databaseUrl, application_name: `pdp-${this.opts.service}-${this.spec.name}`, keepAlive: true });
        let lost!: () => void;
        const gone = new Promise<void>((resolve) => (lost = resolve));
        client.on('error', () => lost());
        client.on('end', () => lost());
        session = { client, gone, lost };
        try {
          await client.connect();
        } catch {
          await end();
          await pause();
          continue;
        }
      }
      const current: { client: pg.Client; gone: Promise<void>; lost: () => void } = session;
      let held = false;
      try {
        const { rows } = await current.client.query<{ held: boolean }>('select pg_try_advisory_lock(hashtext($1)) as held', [`pdp-consumer:${this.spec.name}`]);
        held = rows[0]?.held === true;
      } catch {
        await end();
      }
      if (held && !this.stopping) {
        this.opts.logger.info({ consumer: this.spec.name }, 'ordered consumer: this instance consumes');
        // Nothing here may reject the loop (nobody awaits it until stop): a failure ends this turn.
        let check: NodeJS.Timeout | undefined;
        try {
          const messages = await consume();
          this.messages = messages;
          const running = this.run(messages).catch((err: unknown) => {
            this.opts.logger.error({ err: describe(err), consumer: this.spec.name }, 'ordered consumer stopped');
          });
          // A connection that dies quietly is found by a query: the lock went with it.
          check = setInterval(() => void current.client.query('select 1').catch(() => current.lost()), 5000);
          this.wakeLeader = () => current.lost();
          await Promise.race([current.gone, running]);
          clearInterval(check);
          await messages.close().catch(() => undefined);
          await running;
        } catch (err) {
          this.opts.logger.warn({ err: describe(err), consumer: this.spec.name }, 'ordered consumer could not consume; trying again');
        } finally {
          clearInterval(check);
        }
        this.messages = null;
        // The lock goes with the session: a new one, and a new try.
        await end();
        if (!this.stopping) this.opts.logger.warn({ consumer: this.spec.name }, 'ordered consumer: lock lost; waiting to take it again');
      }
      if (!this.stopping) await pause();
    }
    await end();
  }
  private accepts: (type: string) => boolean = () => true;
  private batchMax = DEFAULT_BATCH;
  private reconciler: NodeJS.Timeout | null = null;
  private round: Promise<void> | null = null;
  /** Failed attempts at a message read back by reconciliation, by stream sequence (it has no delivery count). */
  private readonly recoveryAttempts = new Map<number, number>();

  constructor(
    private readonly spec: ConsumerSpec,
    private readonly opts: ConsumerOptions,
  ) {}

  async start(): Promise<void> {
    const { jsm, stream, prefix } = this.opts;
    // One filter subject only: the NATS 2.9 of the project's machines has no `filter_subjects`. A
    // consumer of several types reads the whole stream in order and acks the others unhandled.
    const types = this.spec.types;
    const filter_subject = types !== 'all' && types.length === 1 ? `${prefix}.events.${types[0]}` : `${prefix}.events.>`;
    this.accepts = types === 'all' ? () => true : (type) => (types as string[]).includes(type);
    const ack_wait = (this.opts.ackWaitMs ?? 30_000) * 1_000_000;
    const max_ack_pending = 1000;
    // An ordered consumer applies one event per transaction, as it always did (see ORDERED_TYPES):
    // batching it let a killed instance leave more of its delivered events to come back after
    // ack_wait, behind later ones, and the fault suite once saw an unblock overtake its block.
    this.batchMax = isOrderedConsumer(types) ? 1 : (this.spec.batch?.max ?? DEFAULT_BATCH);
    const exists = await jsm.consumers.info(stream, this.spec.name).then(
      () => true,
      () => false,
    );
    if (exists) {
      // Another instance may run the older configuration; a failed update must not stop this one.
      await jsm.consumers.update(stream, this.spec.name, { filter_subject, ack_wait, max_ack_pending }).catch((err: unknown) => {
        this.opts.logger.warn({ err: describe(err), consumer: this.spec.name }, 'consumer configuration not updated');
      });
    } else {
      await jsm.consumers.add(stream, {
        durable_name: this.spec.name,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.All,
        ack_wait,
        max_ack_pending,
        max_deliver: -1,
        filter_subject,
      });
    }
    const consumer = await this.opts.js.consumers.get(stream, this.spec.name);
    await this.startReconciling();
    if (isOrderedConsumer(types) && this.opts.databaseUrl) {
      this.loop = this.lead(this.opts.databaseUrl, () => consumer.consume({ max_messages: 256 })).catch((err: unknown) => {
        this.opts.logger.error({ err: describe(err), consumer: this.spec.name }, 'ordered consumer stopped');
      });
      return;
    }
    this.messages = await consumer.consume({ max_messages: 256 });
    this.loop = this.run(this.messages);
  }

  get name(): string {
    return this.spec.name;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.reconciler) clearInterval(this.reconciler);
    await this.round;
    this.wakeLeader?.();
    await this.messages?.close();
    await this.loop;
  }

  /**
   * Ops asked to replay a parked event of this consumer (`replayParkedEvent`): it is judged as on
   * delivery (envelope, owner, signature) and applied through the inbox, so a second replay or a
   * late redelivery changes nothing. In the same transaction the row is resolved and the service
   * records `event.replayed` for the audit, with the ops actor; a replay that fails again or is
   * refused leaves the row parked with the new error, and is recorded too.
   */
  async replay(row: ParkedRow, actor: { id: string; roles: string[] }, correlationId: string | null): Promise<ReplayOutcome> {
    const db = this.opts.db as Kysely<PlatformTables>;
    const record = (trx: Transaction<PlatformTables>, outcome: ReplayOutcome, event: { id: string | null; type: string | null }) =>
      enqueueEvent(
        trx,
        this.opts.prefix,
        {
          type: 'event.replayed',
          source: this.opts.service,
          actor,
          subjectId: null,
          correlationId,
          data: {
            consumer: this.spec.name,
            parkedId: row.id,
            eventId: event.id,
            type: event.type !== null && isEventType(event.type) ? event.type : null,
            outcome,
          },
        },
        this.opts.signer,
      );
    const keep = async (outcome: ReplayOutcome, error: string, event: { id: string | null; type: string | null }) => {
      await db.transaction().execute(async (trx) => {
        await trx.updateTable('parked_events').set({ error, deliveries: sql`deliveries + 1` }).where('id', '=', row.id).execute();
        await record(trx, outcome, event);
      });
      eventsConsumed.inc({ consumer: this.spec.name, outcome: 'replay_failed' });
      return outcome;
    };
    let raw: unknown;
    let event: Envelope;
    try {
      raw = JSON.parse(row.payload);
      event = parseEnvelope(raw);
    } catch (err) {
      const claims = claimsOf(raw, row.subject, this.opts.prefix);
      return keep('REJECTED', `EventRejected: MALFORMED (${describe(err)})`, { id: claims.eventId, type: claims.type });
    }
    const refused = this.opts.verifier.check(event, raw as object, row.subject, this.opts.prefix);
    if (refused) return keep('REJECTED', `EventRejected: ${refused}`, event);
    try {
      const applied = await this.apply(
        event,
        { streamSeq: null },
        async (trx) => {
          await trx.updateTable('parked_events').set({ resolved_at: new Date() }).where('id', '=', row.id).execute();
        },
        async (trx, fresh) => {
          await record(trx, fresh ? 'APPLIED' : 'DUPLICATE', event);
        },
      );
      eventsConsumed.inc({ consumer: this.spec.name, outcome: applied ? 'replayed' : 'duplicate' });
      return applied ? 'APPLIED' : 'DUPLICATE';
    } catch (err) {
      return keep('FAILED', describe(err), event);
    }
  }

  /** Starts the reconciliation rounds, after recording where they start: what is acknowledged now. */
  private async startReconciling(): Promise<void> {
    const r = this.spec.reconcile;
    if (!r) return;
    if ((await r.progress()) === null) await r.advance(await this.ackFloor());
    this.reconciler = setInterval(() => {
      this.round ??= this.reconcile()
        .catch((err: unknown) => this.opts.logger.warn({ err: describe(err), consumer: this.spec.name }, 'reconciliation round failed; trying again'))
        .finally(() => (this.round = null));
    }, r.everyMs);
  }

  private async ackFloor(): Promise<number> {
    return (await this.opts.jsm.consumers.info(this.opts.stream, this.spec.name)).ack_floor.stream_seq;
  }

  /**
   * One round: every stream sequence number up to the consumer's ack floor (all acknowledged) that
   * the service has no record of is read back from the stream and handled as a delivery would be —
   * applied (or found a duplicate), parked or rejected; one parked earlier counts as handled. One the
   * stream no longer has is reported as gone. One instance at a time (an advisory lock); a failure
   * that may pass stops the round there, and the next goes on from it.
   */
  async reconcile(): Promise<void> {
    const r = this.spec.reconcile;
    if (!r || this.stopping) return;
    const db = this.opts.db as Kysely<PlatformTables>;
    await db.transaction().execute(async (trx) => {
      const { rows } = await sql<{ held: boolean }>`select pg_try_advisory_xact_lock(hashtext(${`pdp-reconcile:${this.spec.name}`})) as held`.execute(trx);
      if (!rows[0]?.held) return;
      const after = (await r.progress()) ?? 0;
      const through = Math.min(await this.ackFloor(), after + RECONCILE_SPAN);
      if (through <= after) return;
      const handled = await r.handled(after, through);
      const gone: number[] = [];
      let reached = after;
      for (let seq = after + 1; seq <= through && !this.stopping; seq += 1) {
        if (!handled.has(seq)) {
          const outcome = await this.recover(seq);
          if (outcome === 'retry') break;
          if (outcome === 'gone') gone.push(seq);
        }
        reached = seq;
      }
      if (gone.length > 0) await r.gone(runsOf(gone));
      if (reached > after) await r.advance(reached);
    });
  }

  /** A message acknowledged without a record here: read back by its number and handled now. */
  private async recover(seq: number): Promise<'handled' | 'gone' | 'retry'> {
    let stored: StoredMsg;
    try {
      stored = await this.opts.jsm.streams.getMessage(this.opts.stream, { seq });
    } catch (err) {
      if (isMessageNotFound(err)) return 'gone';
      throw err;
    }
    const db = this.opts.db as Kysely<PlatformTables>;
    const payload = stored.string();
    const parked = await db
      .selectFrom('parked_events')
      .select('id')
      .where('consumer', '=', this.spec.name)
      .where('subject', '=', stored.subject)
      .where('payload', '=', payload)
      .limit(1)
      .executeTakeFirst();
    if (parked) return 'handled';
    this.opts.logger.warn(
      { consumer: this.spec.name, streamSeq: seq, subject: stored.subject },
      'a message was acknowledged without being handled here; handling it from the stream',
    );
    let outcome: 'handled' | 'retry' = 'retry';
    const attempts = (this.recoveryAttempts.get(seq) ?? 0) + 1;
    await this.processBatch([
      {
        subject: stored.subject,
        info: { deliveryCount: attempts, streamSequence: seq },
        headers: stored.header,
        json: <T>() => stored.json<T>(),
        string: () => payload,
        ack: () => void (outcome = 'handled'),
        term: () => void (outcome = 'handled'),
        nak: () => void (outcome = 'retry'),
      },
    ]);
    if (outcome === 'retry') this.recoveryAttempts.set(seq, attempts);
    else this.recoveryAttempts.delete(seq);
    eventsConsumed.inc({ consumer: this.spec.name, outcome: 'recovered' });
    return outcome;
  }

  private async run(messages: ConsumerMessages): Promise<void> {
    const iterator = messages[Symbol.asyncIterator]();
    const max = this.batchMax;
    let next = iterator.next();
    const immediately = () => new Promise<null>((resolve) => setImmediate(() => resolve(null)));
    for (;;) {
      const first = await next;
      if (first.done) return;
      // What is already delivered (never waiting for more than the first) is one batch.
      const batch: JsMsg[] = [first.value];
      next = iterator.next();
      while (batch.length < max) {
        const more = await Promise.race([next, immediately()]);
        if (!more || more.done) break;
        batch.push(more.value);
        next = iterator.next();
      }
      try {
        await this.processBatch(batch);
      } catch (err) {
        // The database is unreachable even for parking: unacked messages come back.
        this.opts.logger.error({ err: describe(err), consumer: this.spec.name }, 'events left for redelivery');
      }
    }
  }

  /**
   * Acks what is not this consumer's business, checks every other message (malformed or unverified
   * ones are rejected one by one), then applies the rest in one transaction; acks after commit. A
   * failed batch falls back to one transaction per event, so a bad event is retried or parked alone.
   */
  private async processBatch(batch: Delivered[]): Promise<void> {
    // In one tick, so the acks of other types leave in one write to NATS, not one each.
    const ours = batch.filter((msg) => {
      if (this.takesSubject(msg.subject)) return true;
      msg.ack();
      return false;
    });
    const valid: Array<{ msg: Delivered; event: Envelope }> = [];
    for (const msg of ours) {
      const checked = await this.check(msg);
      if (checked) valid.push({ msg, event: checked });
    }
    if (valid.length === 0) return;
    if (valid.length === 1) return this.applyOne(valid[0]!.msg, valid[0]!.event);
    let applied: Set<string>;
    try {
      applied = await traceConsume(
        this.spec.name,
        () => valid.map(traced),
        () => this.applyBatch(valid),
      );
    } catch (err) {
      this.opts.logger.warn({ err: describe(err), consumer: this.spec.name, events: valid.length }, 'batch failed; handling its events one by one');
      for (const { msg, event } of valid) await this.applyOne(msg, event);
      return;
    }
    for (const { msg, event } of valid) {
      msg.ack();
      eventsConsumed.inc({ consumer: this.spec.name, outcome: applied.has(event.id) ? 'applied' : 'duplicate' });
    }
  }

  /**
   * False for a message whose subject names a type this consumer does not take. A consumer of
   * several types reads the whole stream (NATS 2.9 has no `filter_subjects`): another type is not its
   * business — that type's consumers parse, verify and, if it lies, reject it — so it is acked before
   * any parsing. Most of the stream is other services' access records: parsing each with zod was
   * 5–7 % of a subgraph's CPU (bench/read).
   */
  private takesSubject(subject: string): boolean {
    const subjectType = typeOfSubject(subject, this.opts.prefix);
    return !isEventType(subjectType) || this.accepts(subjectType);
  }

  /** The event a message of a type it takes carries, when this consumer must apply it; otherwise it is acked or rejected here. */
  private async check(msg: Delivered): Promise<Envelope | null> {
    const { prefix } = this.opts;
    let raw: unknown = null;
    let event: Envelope;
    try {
      raw = msg.json();
      event = parseEnvelope(raw);
    } catch (err) {
      await this.reject(msg, raw, 'MALFORMED', err);
      return null;
    }
    // Checked before the type: a subject of a type it takes over a body of another type is refused
    // (WRONG_SUBJECT), parked and audited, never quietly skipped.
    const refused = this.opts.verifier.check(event, raw as object, msg.subject, prefix);
    if (refused) {
      await this.reject(msg, raw, refused, null);
      return null;
    }
    if (!this.accepts(event.type)) {
      msg.ack();
      return null;
    }
    return event;
  }

  /** Returns the ids applied now (the others were duplicates). */
  private async applyBatch(batch: Array<{ msg: Delivered; event: Envelope }>): Promise<Set<string>> {
    const db = this.opts.db as Kysely<PlatformTables>;
    return db.transaction().execute(async (trx) => {
      const fresh = await trx
        .insertInto('inbox')
        .values(batch.map(({ event: e }) => ({ consumer: this.spec.name, event_id: e.id, event_type: e.type })))
        .onConflict((oc) => oc.columns(['consumer', 'event_id']).doNothing())
        .returning('event_id')
        .execute();
      const ids = new Set(fresh.map((r) => r.event_id));
      // The same event twice in one batch (a redelivery) is applied once.
      const seen = new Set<string>();
      const todo = batch.filter(({ event: e }) => ids.has(e.id) && !seen.has(e.id) && seen.add(e.id));
      if (todo.length > 0)
        await this.handleBatch(
          trx,
          todo.map((t) => t.event),
          todo.map((t) => ({ streamSeq: t.msg.info.streamSequence })),
        );
      return ids;
    });
  }

  private async handleBatch(trx: Transaction<any>, events: Envelope[], deliveries: Delivery[]): Promise<void> {
    if (this.spec.batch?.handle) return this.spec.batch.handle(trx, events, deliveries);
    for (const [i, event] of events.entries()) await this.spec.handle(trx, event, deliveries[i]!);
  }

  private async applyOne(msg: Delivered, event: Envelope): Promise<void> {
    const consumer = this.spec.name;
    try {
      const applied = await traceConsume(
        consumer,
        () => [traced({ msg, event })],
        () => this.apply(event, { streamSeq: msg.info.streamSequence }),
      );
      msg.ack();
      eventsConsumed.inc({ consumer, outcome: applied ? 'applied' : 'duplicate' });
    } catch (err) {
      const attempts = msg.info.deliveryCount;
      const exhausted = !(err instanceof NotReadyError) && !isTransient(err) && attempts >= (this.opts.maxAttempts ?? 8);
      if (err instanceof PermanentError || exhausted) {
        await this.park(msg, event.id, err);
        return;
      }
      this.opts.logger.warn({ err: describe(err), consumer, eventId: event.id, type: event.type, attempts }, 'event handling failed; retrying');
      eventsConsumed.inc({ consumer, outcome: 'retried' });
      msg.nak(backoffMs(attempts));
    }
  }

  /**
   * Returns false when the event was already processed (duplicate or redelivery). `always` runs in
   * the same transaction either way, `after` last with whether it was fresh (a replay's bookkeeping).
   */
  private async apply(
    event: Envelope,
    delivery: Delivery,
    always?: (trx: Transaction<PlatformTables>) => Promise<void>,
    after?: (trx: Transaction<PlatformTables>, fresh: boolean) => Promise<unknown>,
  ): Promise<boolean> {
    const db = this.opts.db as Kysely<PlatformTables>;
    return db.transaction().execute(async (trx) => {
      await always?.(trx);
      const fresh = await trx
        .insertInto('inbox')
        .values({ consumer: this.spec.name, event_id: event.id, event_type: event.type })
        .onConflict((oc) => oc.columns(['consumer', 'event_id']).doNothing())
        .returning('event_id')
        .executeTakeFirst();
      if (fresh) await this.spec.handle(trx, event, delivery);
      await after?.(trx, Boolean(fresh));
      return Boolean(fresh);
    });
  }

  private async park(msg: Delivered, eventId: string | null, err: unknown): Promise<void> {
    await this.parkRow(this.opts.db as Kysely<PlatformTables>, msg, eventId, describe(err));
    msg.term();
    eventsConsumed.inc({ consumer: this.spec.name, outcome: 'parked' });
    this.opts.logger.error({ consumer: this.spec.name, eventId, subject: msg.subject }, 'event parked for ops');
  }

  private async parkRow(db: Kysely<PlatformTables>, msg: Delivered, eventId: string | null, error: string): Promise<void> {
    await db
      .insertInto('parked_events')
      .values({
        consumer: this.spec.name,
        event_id: eventId,
        subject: msg.subject,
        payload: msg.string(),
        error,
        deliveries: msg.info.deliveryCount,
        resolved_at: null,
      })
      .execute();
  }

  /**
   * A message with no effect allowed: parked and recorded for the audit in one transaction, never
   * an inbox row (its id is the sender's claim, and must not shadow a genuine event of that id).
   * The record holds only what was checked: a uuid, a catalog type, a known service, the reason.
   */
  private async reject(msg: Delivered, raw: unknown, reason: RejectionReason, err: unknown): Promise<void> {
    const claims = claimsOf(raw, msg.subject, this.opts.prefix);
    const db = this.opts.db as Kysely<PlatformTables>;
    await db.transaction().execute(async (trx) => {
      await this.parkRow(trx, msg, claims.eventId, `EventRejected: ${reason}${err ? ` (${describe(err)})` : ''}`);
      await enqueueEvent(
        trx,
        this.opts.prefix,
        {
          type: 'event.rejected',
          source: this.opts.service,
          actor: VERIFICATION_ACTOR,
          subjectId: null,
          correlationId: claims.eventId,
          data: { consumer: this.spec.name, eventId: claims.eventId, type: claims.type, claimedSource: claims.source, reason },
        },
        this.opts.signer,
      );
    });
    msg.term();
    eventsConsumed.inc({ consumer: this.spec.name, outcome: 'rejected' });
    this.opts.logger.error(
      { consumer: this.spec.name, eventId: claims.eventId, type: claims.type, claimedSource: claims.source, reason },
      'event rejected and parked',
    );
  }
}

/** At most this many sequence numbers are looked at in one reconciliation round. */
const RECONCILE_SPAN = 100_000;

/** Consecutive numbers as runs: [3, 4, 5, 9] → 3…5, 9…9. */
function runsOf(seqs: number[]): Array<{ from: number; to: number }> {
  const runs: Array<{ from: number; to: number }> = [];
  for (const seq of seqs) {
    const last = runs.at(-1);
    if (last && last.to === seq - 1) last.to = seq;
    else runs.push({ from: seq, to: seq });
  }
  return runs;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The event type a NATS subject names (`<prefix>.events.<type>`), or '' for any other subject. */
function typeOfSubject(subject: string, prefix: string): string {
  return subject.startsWith(`${prefix}.events.`) ? subject.slice(prefix.length + 8) : '';
}

/** What a refused message claims, kept only where it is a uuid, a catalog type or a known service. */
export function claimsOf(raw: unknown, subject: string, prefix: string): { eventId: string | null; type: EventType | null; source: ServiceName | null } {
  const r = raw && typeof raw === 'object' ? (raw as Record<string, unknown>) : {};
  const subjectType = typeOfSubject(subject, prefix);
  const type = typeof r.type === 'string' && isEventType(r.type) ? r.type : isEventType(subjectType) ? subjectType : null;
  return {
    eventId: typeof r.id === 'string' && UUID.test(r.id) ? r.id.toLowerCase() : null,
    type,
    source: typeof r.source === 'string' && (SERVICES as readonly string[]).includes(r.source) ? (r.source as ServiceName) : null,
  };
}

/** What tracing.ts reads of a delivery: its subject, headers (the trace context) and event. */
function traced({ msg, event }: { msg: Delivered; event: Envelope }): TracedDelivery {
  return { subject: msg.subject, headers: msg.headers, event };
}

/** For logs and the parked row: name and message only. */
function describe(err: unknown): string {
  const { name, message } = safeError(err);
  return `${name}: ${message}`;
}
