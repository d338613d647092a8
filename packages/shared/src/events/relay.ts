import { sql, type Kysely } from 'kysely';
import pg from 'pg';
import type { JetStreamClient } from 'nats';
import { safeError, type Logger } from '../logger';
import { eventsRelayed } from '../metrics';
import { isHandoffSubject } from './handoff';
import type { PlatformTables } from './migrations';
import { OUTBOX_CHANNEL } from './outbox';

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
}

/**
 * Publishes outbox rows to JetStream in order, with `msgID` = row id so a retry after a crash is
 * deduplicated by the stream. Several instances can run: a batch is published under a transaction
 * advisory lock, so they take turns and the order holds across them.
 *
 * Hand-off rows (`handoff.ts`) go first, to the hand-off stream, and their acks are awaited before
 * the batch's events go out: a consumer that sees an event always finds its hand-off. Once published,
 * a hand-off row is deleted, so the sender keeps no copy of the sealed value.
 */
export class OutboxRelay {
  private running = false;
  private wake: (() => void) | null = null;
  private pending = false;
  private listener: pg.Client | null = null;
  private loop: Promise<void> | null = null;

  constructor(private readonly opts: RelayOptions) {}

  async start(): Promise<void> {
    this.running = true;
    this.listener = new pg.Client({ connectionString: this.opts.databaseUrl });
    this.listener.on('notification', () => this.kick());
    this.listener.on('error', (err) => this.opts.logger.warn({ err: safeError(err) }, 'outbox listener error'));
    await this.listener.connect();
    await this.listener.query(`listen ${OUTBOX_CHANNEL}`);
    this.loop = this.run();
  }

  kick(): void {
    this.pending = true;
    this.wake?.();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
    await this.listener?.end().catch(() => undefined);
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
      if (published > 0 || this.pending) continue;
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
      const { rows: lock } = await sql<{ locked: boolean }>`select pg_try_advisory_xact_lock(${RELAY_LOCK.toString()}::bigint) as locked`.execute(trx);
      if (!lock[0]?.locked) return 0;
      // Plain FOR UPDATE: the lock above keeps other relays out; this waits for an erasure that is
      // deleting hand-off rows of the batch, instead of publishing their event without them.
      const rows = await trx
        .selectFrom('outbox')
        .select(['seq', 'id', 'subject', 'payload'])
        .where('published_at', 'is', null)
        .orderBy('seq')
        .limit(this.opts.batchSize ?? 200)
        .forUpdate()
        .execute();
      if (rows.length === 0) return 0;
      const handoffs = rows.filter((row) => isHandoffSubject(row.subject));
      const events = rows.filter((row) => !isHandoffSubject(row.subject));
      // Each group is sent in order on one connection and acked by the stream in a pipeline.
      const publish = (group: typeof rows) =>
        Promise.all(group.map((row) => this.opts.js.publish(row.subject, JSON.stringify(row.payload), { msgID: row.id })));
      if (handoffs.length > 0) {
        await publish(handoffs);
        await trx.deleteFrom('outbox').where('seq', 'in', handoffs.map((r) => r.seq)).execute();
      }
      if (events.length > 0) {
        await publish(events);
        await trx
          .updateTable('outbox')
          .set({ published_at: new Date() })
          .where('seq', 'in', events.map((r) => r.seq))
          .execute();
      }
      eventsRelayed.inc({ service: this.opts.service }, rows.length);
      return rows.length;
    });
  }
}
