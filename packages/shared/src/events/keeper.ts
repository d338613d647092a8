import { sql, type Kysely } from 'kysely';
import { Events, type JetStreamManager, type NatsConnection } from 'nats';
import { safeError, type Logger } from '../logger';
import { outboxResent } from '../metrics';
import { isHandoffSubject, isMessageNotFound } from './handoff';
import type { PlatformTables } from './migrations';

/** One keeper per service database at a time (`pg_try_advisory_xact_lock` key). */
const KEEPER_LOCK = 0x7064705f6b656570n; // "pdp_keep"

export interface KeeperOptions {
  db: Kysely<any>;
  nc: NatsConnection;
  jsm: JetStreamManager;
  prefix: string;
  /** The event stream and the hand-off stream. */
  stream: string;
  handoffStream: string;
  logger: Logger;
  service: string;
  /** Wakes the relay when rows are to be sent again. */
  kick: () => void;
  /** How often a round runs (5 s). */
  everyMs?: number;
  /** A hand-off still unconfirmed this long after it was published (or last found) is looked for in the stream (15 s). */
  handoffCheckAfterMs?: number;
  /** After NATS comes back, every event published this long before it went away is looked for (2 min). */
  recheckWindowMs?: number;
  /** A hand-off row is forgotten after this long in any case: the stream keeps nothing longer (7 days). */
  maxAgeMs?: number;
}

/** The message id the relay publishes a row under: a row sent again gets a new one (see `OutboxKeeper`). */
export function outboxMsgId(row: { id: string; resends: number }): string {
  return row.resends > 0 ? `${row.id}:${row.resends}` : row.id;
}

const BATCH = 500;

/**
 * What the producer keeps until it is safe to forget, and sends again when the stream lost it
 * (issue 29). The relay records where the stream stored each row (`stream_seq`). Then:
 *
 * - **Events** stay in the outbox (as they always did). When NATS comes back after being away (a
 *   crash, a restart, a lost connection), every event published from `recheckWindowMs` before it went
 *   away is looked up by its sequence number; one the stream no longer has (a crash lost it, its
 *   number went to another message) is marked unpublished and sent again, in its place in the order.
 *   Consumers' inboxes make a copy that did survive harmless.
 * - **Hand-offs** are kept, sealed, until the recipient confirms it stored them (`Handoffs.settle`,
 *   on the recipient's own event) or an erasure removes them. One still unconfirmed after
 *   `handoffCheckAfterMs` is looked for in the hand-off stream; one that is not there is sent again.
 *   A recipient that finds a hand-off missing waits for it (`Handoffs.open`), so nothing is stored
 *   without the data that was sent.
 *
 * Rounds run in one instance at a time (an advisory lock); any failure leaves the round for the next.
 */
export class OutboxKeeper {
  private timer: NodeJS.Timeout | null = null;
  private round: Promise<void> | null = null;
  private running = false;
  private awayFrom: number | null = null;
  /** Events published from here on are looked up in the next round (set when NATS comes back). */
  private recheckFrom: Date | null = null;

  constructor(private readonly opts: KeeperOptions) {}

  start(): void {
    this.running = true;
    void (async () => {
      for await (const status of this.opts.nc.status()) {
        if (status.type === Events.Disconnect) this.awayFrom ??= Date.now();
        else if (status.type === Events.Reconnect) {
          const from = (this.awayFrom ?? Date.now()) - (this.opts.recheckWindowMs ?? 120_000);
          this.recheckFrom = this.recheckFrom && this.recheckFrom.getTime() < from ? this.recheckFrom : new Date(from);
          this.awayFrom = null;
          this.opts.logger.info({ since: this.recheckFrom.toISOString() }, 'NATS is back: checking that the stream kept what was published');
        }
      }
    })().catch(() => undefined);
    this.timer = setInterval(() => void this.tick(), this.opts.everyMs ?? 5000);
    this.timer.unref?.();
  }

  /** A NATS restart this process did not see (it was not running then): everything published since `from` is looked up. */
  recheckSince(from: Date): void {
    this.recheckFrom = from;
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.round;
  }

  /** One round now (tests; the timer calls it too). */
  tick(): Promise<void> {
    this.round ??= this.check()
      .catch((err: unknown) => this.opts.logger.warn({ err: safeError(err) }, 'outbox check postponed'))
      .finally(() => (this.round = null));
    return this.round;
  }

  private async check(): Promise<void> {
    if (!this.running) return;
    const db = this.opts.db as Kysely<PlatformTables>;
    const resent = await db.transaction().execute(async (trx) => {
      const { rows } = await sql<{ held: boolean }>`select pg_try_advisory_xact_lock(${KEEPER_LOCK.toString()}::bigint) as held`.execute(trx);
      if (!rows[0]?.held) return 0;
      let lost = 0;
      if (this.recheckFrom) {
        const from = this.recheckFrom;
        lost += await this.recheckEvents(trx, from);
        lost += await this.checkHandoffs(trx, from);
        if (this.recheckFrom === from) this.recheckFrom = null;
      }
      lost += await this.checkHandoffs(trx, null);
      // Hand-offs nobody confirmed within the stream's age limit: the stream has forgotten them too.
      await trx
        .deleteFrom('outbox')
        .where('subject', 'like', `${this.opts.prefix}.handoff.%`)
        .where('published_at', '<', new Date(Date.now() - (this.opts.maxAgeMs ?? 7 * 24 * 3600_000)))
        .execute();
      return lost;
    });
    if (resent > 0) this.opts.kick();
  }

  /** Events published since `from`, each looked up by its number; returns how many are sent again. */
  private async recheckEvents(trx: Kysely<PlatformTables>, from: Date): Promise<number> {
    let after = '0';
    let lost = 0;
    for (;;) {
      const rows = await trx
        .selectFrom('outbox')
        .select(['seq', 'id', 'subject', 'stream_seq', 'resends'])
        .where('published_at', '>=', from)
        .where('stream_seq', 'is not', null)
        .where('seq', '>', after)
        .orderBy('seq')
        .limit(BATCH)
        .execute();
      const events = rows.filter((r) => !isHandoffSubject(r.subject));
      const gone: string[] = [];
      await Promise.all(
        events.map(async (row) => {
          try {
            const stored = await this.opts.jsm.streams.getMessage(this.opts.stream, { seq: Number(row.stream_seq) });
            if (stored.header?.get('Nats-Msg-Id') !== outboxMsgId(row) || stored.subject !== row.subject) gone.push(row.seq);
          } catch (err) {
            if (isMessageNotFound(err)) gone.push(row.seq);
            else throw err;
          }
        }),
      );
      lost += await this.sendAgain(trx, gone, 'event');
      if (rows.length < BATCH) return lost;
      after = rows.at(-1)!.seq;
    }
  }

  /**
   * Unconfirmed hand-offs looked for in their stream: those published since `from` (after NATS came
   * back), or else those unconfirmed for a while. Found: checked again later; missing: sent again.
   */
  private async checkHandoffs(trx: Kysely<PlatformTables>, from: Date | null): Promise<number> {
    const due = new Date(Date.now() - (this.opts.handoffCheckAfterMs ?? 15_000));
    let query = trx
      .selectFrom('outbox')
      .select(['seq', 'subject'])
      .where('subject', 'like', `${this.opts.prefix}.handoff.%`)
      .where('published_at', 'is not', null)
      .orderBy(sql`coalesce(checked_at, published_at)`)
      .limit(BATCH);
    query = from ? query.where('published_at', '>=', from) : query.where(sql<boolean>`coalesce(checked_at, published_at) < ${due}`);
    const rows = await query.execute();
    if (rows.length === 0) return 0;
    const gone: string[] = [];
    const found: string[] = [];
    await Promise.all(
      rows.map(async (row) => {
        try {
          // The sealed value, or an erasure's marker (the erasure removes the row in its transaction).
          await this.opts.jsm.streams.getMessage(this.opts.handoffStream, { last_by_subj: row.subject });
          found.push(row.seq);
        } catch (err) {
          if (isMessageNotFound(err)) gone.push(row.seq);
          else throw err;
        }
      }),
    );
    if (found.length > 0) await trx.updateTable('outbox').set({ checked_at: new Date() }).where('seq', 'in', found).execute();
    return this.sendAgain(trx, gone, 'handoff');
  }

  private async sendAgain(trx: Kysely<PlatformTables>, seqs: string[], kind: 'event' | 'handoff'): Promise<number> {
    if (seqs.length === 0) return 0;
    await trx
      .updateTable('outbox')
      .set({ published_at: null, stream_seq: null, checked_at: null, resends: sql`resends + 1` })
      .where('seq', 'in', seqs)
      .where('published_at', 'is not', null)
      .execute();
    outboxResent.inc({ service: this.opts.service, kind }, seqs.length);
    this.opts.logger.warn({ rows: seqs.length, kind }, 'the stream lost published outbox rows: sending them again');
    return seqs.length;
  }
}
