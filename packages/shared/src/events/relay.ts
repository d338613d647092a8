import type { Kysely } from 'kysely';
import pg from 'pg';
import type { JetStreamClient } from 'nats';
import { safeError, type Logger } from '../logger';
import { eventsRelayed } from '../metrics';
import type { PlatformTables } from './migrations';
import { OUTBOX_CHANNEL } from './outbox';

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
 * Publishes outbox rows to JetStream in order, with `msgID` = event id so a retry after a crash is
 * deduplicated by the stream. Rows are claimed with SKIP LOCKED, so several instances can run.
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

  /** Publishes one batch; returns how many rows it published. */
  async publishBatch(): Promise<number> {
    const db = this.opts.db as Kysely<PlatformTables>;
    return db.transaction().execute(async (trx) => {
      const rows = await trx
        .selectFrom('outbox')
        .select(['seq', 'id', 'subject', 'payload'])
        .where('published_at', 'is', null)
        .orderBy('seq')
        .limit(this.opts.batchSize ?? 200)
        .forUpdate()
        .skipLocked()
        .execute();
      if (rows.length === 0) return 0;
      // Sent in order on one connection; the stream acks them in a pipeline.
      await Promise.all(
        rows.map((row) => this.opts.js.publish(row.subject, JSON.stringify(row.payload), { msgID: row.id })),
      );
      await trx
        .updateTable('outbox')
        .set({ published_at: new Date() })
        .where('seq', 'in', rows.map((r) => r.seq))
        .execute();
      eventsRelayed.inc({ service: this.opts.service }, rows.length);
      return rows.length;
    });
  }
}
