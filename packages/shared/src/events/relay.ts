import { sql, type Kysely } from 'kysely';
import pg from 'pg';
import type { JetStreamClient } from 'nats';
import { safeError, type Logger } from '../logger';
import { eventsRelayed, outboxListenerUp, outboxPublishDelay } from '../metrics';
import { CONFIRMED_HANDOFFS, handoffRecipient, isHandoffSubject } from './handoff';
import type { ServiceName } from './catalog';
import type { PlatformTables } from './migrations';
import { outboxMsgId } from './keeper';
import { OUTBOX_CHANNEL } from './outbox';
import { natsTraceHeaders, tracePublish } from '../tracing';

/** One relay per service database at a time (`pg_try_advisory_xact_lock` key). */
const RELAY_LOCK = 0x7064705f72656c61n; // "pdp_rela"

export interface RelayOptions {
  db: Kysely<any>;
  databaseUrl: string;
  js: JetStreamClient;
  logger: Logger;
  service: string;
  batchSize?: number;
  /** Fallback poll, for a missed NOTIFY (e.g. while the listener reconnects). */
  pollMs?: number;
  /** First wait before the listener connects again after losing its connection (doubles up to 5 s). */
  relistenMs?: number;
}

/**
 * Publishes outbox rows to JetStream in order, with `msgID` = row id so a retry after a crash is
 * deduplicated by the stream. Several instances can run: a batch is published under a transaction
 * advisory lock, so they take turns and the order holds across them.
 *
 * Hand-off rows (`handoff.ts`) go first, to the hand-off stream, and their acks are awaited before
 * the batch's events go out: a consumer that sees an event finds its hand-off. Every row keeps the
 * stream sequence number it was stored under; hand-off rows are kept (sealed) until the recipient has
 * stored the value, and `OutboxKeeper` sends again whatever the stream lost (keeper.ts).
 */
export class OutboxRelay {
  private running = false;
  private wake: (() => void) | null = null;
  private pending = false;
  private listener: pg.Client | null = null;
  private loop: Promise<void> | null = null;
  private relisten: NodeJS.Timeout | null = null;
  private listening = false;

  constructor(private readonly opts: RelayOptions) {}

  async start(): Promise<void> {
    this.running = true;
    await this.listen();
    this.loop = this.run();
  }

  /** True while the relay is subscribed (LISTEN) and wakes on every commit; false while it only polls. */
  get isListening(): boolean {
    return this.listening;
  }

  /**
   * LISTEN on a connection of its own. When that connection dies (a database restart, a failover, a
   * killed backend) the relay would otherwise fall back to its poll for good: it connects and
   * subscribes again, with a growing pause, and publishes at once whatever was committed meanwhile.
   */
  private async listen(attempt = 0): Promise<void> {
    const client = new pg.Client({ connectionString: this.opts.databaseUrl, application_name: `pdp-${this.opts.service}-relay` });
    this.listener = client;
    let lost = false;
    const onLost = (err?: Error) => {
      if (lost) return;
      lost = true;
      this.setListening(false);
      if (!this.running) return;
      if (err) this.opts.logger.warn({ err: safeError(err) }, 'outbox listener lost; subscribing again');
      client.end().catch(() => undefined);
      this.scheduleListen(attempt + 1);
    };
    client.on('notification', () => this.kick());
    client.on('error', onLost);
    client.on('end', () => onLost());
    try {
      await client.connect();
      await client.query(`listen ${OUTBOX_CHANNEL}`);
    } catch (err) {
      // The first start fails loudly (the service cannot work without its database); later ones retry.
      if (attempt === 0 && !this.loop) {
        lost = true;
        await client.end().catch(() => undefined);
        throw err;
      }
      onLost(err as Error);
      return;
    }
    if (lost) return;
    this.setListening(true);
    if (attempt > 0) this.opts.logger.info('outbox listener subscribed again');
    // Commits made while no one listened sent their NOTIFY to nobody.
    this.kick();
    // The attempt counter starts over once a subscription holds.
    attempt = 0;
  }

  private scheduleListen(attempt: number): void {
    if (this.relisten || !this.running) return;
    const first = this.opts.relistenMs ?? 250;
    const delay = Math.min(5000, first * 2 ** Math.min(10, attempt - 1));
    this.relisten = setTimeout(() => {
      this.relisten = null;
      if (this.running) void this.listen(attempt);
    }, delay);
  }

  private setListening(value: boolean): void {
    this.listening = value;
    outboxListenerUp.set({ service: this.opts.service }, value ? 1 : 0);
  }

  kick(): void {
    this.pending = true;
    this.wake?.();
  }

  /**
   * Stops the relay, flushing first: whatever was committed until now (the last requests', the last
   * consumed events' rows) is published before it returns, not left to another instance or the next
   * start. The flush gives up after `flushMs` (NATS or the database gone): the rows stay in the
   * outbox and go out with the next relay, as after a crash.
   */
  async stop(flushMs = 5000): Promise<void> {
    this.running = false;
    if (this.relisten) clearTimeout(this.relisten);
    this.relisten = null;
    this.wake?.();
    await this.loop;
    await this.flush(flushMs);
    const listener = this.listener;
    this.listener = null;
    this.setListening(false);
    await listener?.end().catch(() => undefined);
  }

  /** Publishes batches until none is left (or another instance holds the turn: it publishes them). */
  private async flush(flushMs: number): Promise<void> {
    const deadline = Date.now() + flushMs;
    while (Date.now() < deadline) {
      try {
        const published = await this.publishBatch();
        if (published < this.batchSize) return;
      } catch (err) {
        this.opts.logger.warn({ err: safeError(err) }, 'outbox flush at stop failed; the rows go out with the next relay');
        return;
      }
    }
  }

  private get batchSize(): number {
    return this.opts.batchSize ?? 200;
  }

  private async run(): Promise<void> {
    const pollMs = this.opts.pollMs ?? 1000;
    while (this.running) {
      this.pending = false;
      let published = 0;
      try {
        published = await this.publishBatch();
      } catch (err) {
        this.opts.logger.error({ err: safeError(err) }, 'outbox relay failed; will retry');
        await new Promise((r) => setTimeout(r, 500));
      }
      // A full batch may have more behind it; a NOTIFY that came meanwhile means a commit this batch
      // may not have seen. Otherwise everything committed so far is out: wait for the next NOTIFY,
      // instead of one more (empty) transaction after every batch.
      if (published >= this.batchSize || this.pending) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, pollMs);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = null;
    }
  }

  /** Publishes one batch; returns how many rows it published (0 while another instance publishes). */
  async publishBatch(): Promise<number> {
    const db = this.opts.db as Kysely<PlatformTables>;
    return db.transaction().execute(async (trx) => {
      // The advisory lock is taken by the same statement, before any row (an InitPlan evaluated
      // once): no rows while another instance holds it. Plain FOR UPDATE: the lock keeps other
      // relays out; this waits for an erasure that is deleting hand-off rows of the batch, instead of
      // publishing their event without them.
      const rows = await trx
        .selectFrom('outbox')
        .select(['seq', 'id', 'subject', 'payload', 'created_at', 'resends', 'trace_context'])
        .where('published_at', 'is', null)
        .where(sql<boolean>`(select pg_try_advisory_xact_lock(${RELAY_LOCK.toString()}::bigint))`)
        .orderBy('seq')
        .limit(this.batchSize)
        .forUpdate()
        .execute();
      if (rows.length === 0) return 0;
      const handoffs = rows.filter((row) => isHandoffSubject(row.subject));
      const events = rows.filter((row) => !isHandoffSubject(row.subject));
      // Each group is sent in order on one connection and acked by the stream in a pipeline; the
      // hand-offs' acks are awaited before any event goes out.
      // An event's trace context (stored with its row) goes on in the message's headers (tracing.ts).
      const publish = (group: typeof rows) =>
        Promise.all(
          group.map((row) =>
            row.trace_context
              ? tracePublish(row, (carried) =>
                  this.opts.js.publish(row.subject, JSON.stringify(row.payload), { msgID: outboxMsgId(row), headers: natsTraceHeaders(carried) }),
                )
              : this.opts.js.publish(row.subject, JSON.stringify(row.payload), { msgID: outboxMsgId(row) }),
          ),
        );
      const handoffAcks = handoffs.length > 0 ? await publish(handoffs) : [];
      const eventAcks = events.length > 0 ? await publish(events) : [];
      // Then, in one statement, every row is marked with where the stream stored it. Hand-offs are
      // kept (sealed) until their recipient has stored them; events as they always were (keeper.ts).
      const published = [...handoffs, ...events];
      const streamSeqs = [...handoffAcks, ...eventAcks].map((ack) => String(ack.seq));
      await sql`update "outbox" set published_at = now(), stream_seq = v.stream_seq, checked_at = null
        from unnest(${published.map((r) => r.seq)}::bigint[], ${streamSeqs}::bigint[]) as v(seq, stream_seq)
        where outbox.seq = v.seq`.execute(trx);
      // Hand-offs no event will confirm are not kept (CONFIRMED_HANDOFFS): the sender keeps no copy.
      const kept = CONFIRMED_HANDOFFS[this.opts.service as ServiceName] ?? [];
      const unconfirmed = handoffs.filter((row) => !(kept as readonly string[]).includes(handoffRecipient(row.subject))).map((row) => row.seq);
      if (unconfirmed.length > 0) await trx.deleteFrom('outbox').where('seq', 'in', unconfirmed).execute();
      eventsRelayed.inc({ service: this.opts.service }, rows.length);
      // Commit-to-publish time of the batch's events (hand-offs travel with them).
      const now = Date.now();
      for (const row of events) outboxPublishDelay.observe({ service: this.opts.service }, Math.max(0, now - new Date(row.created_at).getTime()) / 1000);
      return rows.length;
    });
  }
}
