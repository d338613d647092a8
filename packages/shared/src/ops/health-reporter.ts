/** Each instance's health snapshot, every few seconds, to its gauges and the ops bucket (see ../ops.ts). */
import { sql, type Kysely } from 'kysely';
import type { JetStreamClient, JetStreamManager, KV } from 'nats';
import type { ConsumerState } from '../events/consumer';
import type { FieldEncryptionState } from '../field-encryption';
import { safeError, type Logger } from '../logger';
import {
  consumerAckPending,
  consumerPending,
  fieldReencryptionPending,
  outboxBacklog,
  outboxOldestUnpublished,
  parkedEventsGauge,
  serviceReady,
} from '../metrics';

import { type OpsService, opsBucket, type HealthSnapshot, type ConsumerHealth, within, json, snapshotTtlMs } from './common';

export interface HealthReporterOptions {
  service: OpsService;
  instance: string;
  db: Kysely<any>;
  js: JetStreamClient;
  jsm: JetStreamManager;
  prefix: string;
  stream: string;
  consumers: () => Array<{ name: string; state: ConsumerState }>;
  readiness: () => Promise<{ ready: boolean; checks: Record<string, string> }>;
  relayListening: () => boolean;
  /** The service's `field_encryption` rows; null for a service without encrypted columns. */
  fieldEncryption: (() => Promise<FieldEncryptionState[]>) | null;
  connected: () => boolean;
  intervalMs: number;
  replicas: number;
  logger: Logger;
}

/**
 * Collects this instance's health figures every `intervalMs`, sets the gauges and writes the snapshot
 * to the ops bucket. Every step has its own deadline and keeps the last figures it had: a database
 * or NATS that is down makes the snapshot "not ready", never makes it hang or stop.
 */
export class HealthReporter {
  private timer: NodeJS.Timeout | null = null;
  private kv: KV | null = null;
  private running = false;
  private tick: Promise<void> = Promise.resolve();
  private last: HealthSnapshot;

  constructor(private readonly opts: HealthReporterOptions) {
    this.last = {
      service: opts.service,
      instance: opts.instance,
      ready: false,
      checks: {},
      outboxBacklog: 0,
      oldestUnpublishedSeconds: null,
      parkedEvents: 0,
      consumers: [],
      relayListening: false,
      fieldEncryption: [],
      reportedAt: new Date().toISOString(),
    };
  }

  start(): void {
    this.running = true;
    const loop = () => {
      this.tick = this.report().finally(() => {
        if (this.running) this.timer = setTimeout(loop, this.opts.intervalMs);
      });
    };
    loop();
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    await this.tick;
    // Gone at once rather than when the bucket's TTL runs out: a stopped instance is not ready.
    if (this.kv && this.opts.connected()) await within(1000, this.kv.delete(this.key)).catch(() => undefined);
  }

  get key(): string {
    return `${this.opts.service}.${this.opts.instance}`;
  }

  /** The latest snapshot (collected at most `intervalMs` ago). */
  get snapshot(): HealthSnapshot {
    return this.last;
  }

  async report(): Promise<void> {
    const snapshot = await this.collect();
    this.last = snapshot;
    const service = this.opts.service;
    serviceReady.set({ service }, snapshot.ready ? 1 : 0);
    outboxBacklog.set({ service }, snapshot.outboxBacklog);
    outboxOldestUnpublished.set({ service }, snapshot.oldestUnpublishedSeconds ?? 0);
    parkedEventsGauge.set({ service }, snapshot.parkedEvents);
    for (const c of snapshot.consumers) {
      consumerPending.set({ consumer: c.name }, c.pending);
      consumerAckPending.set({ consumer: c.name }, c.ackPending);
    }
    for (const f of snapshot.fieldEncryption) fieldReencryptionPending.set({ service, table: f.table }, f.pending);
    if (!this.opts.connected()) return;
    try {
      this.kv ??= await within(
        2000,
        this.opts.js.views.kv(opsBucket(this.opts.prefix), { history: 1, ttl: snapshotTtlMs(this.opts.intervalMs), replicas: this.opts.replicas }),
      );
      await within(2000, this.kv.put(this.key, json.encode(snapshot)));
    } catch (err) {
      // The bucket may have gone with a NATS store: bind (or make) it again next time.
      this.kv = null;
      this.opts.logger.debug({ err: safeError(err) }, 'health snapshot not written');
    }
  }

  private async collect(): Promise<HealthSnapshot> {
    const previous = this.last;
    const fieldEncryption = this.opts.fieldEncryption;
    const [readiness, figures, consumers, encryption] = await Promise.all([
      this.opts.readiness().catch(() => ({ ready: false, checks: { health: 'failed' } })),
      within(1000, this.figures()).catch(() => null),
      this.consumerFigures(previous.consumers),
      fieldEncryption ? within(1000, fieldEncryption()).catch(() => previous.fieldEncryption) : Promise.resolve([]),
    ]);
    return {
      service: this.opts.service,
      instance: this.opts.instance,
      ready: readiness.ready,
      checks: readiness.checks,
      outboxBacklog: figures?.backlog ?? previous.outboxBacklog,
      oldestUnpublishedSeconds: figures ? figures.oldest : previous.oldestUnpublishedSeconds,
      parkedEvents: figures?.parked ?? previous.parkedEvents,
      consumers,
      relayListening: this.opts.relayListening(),
      fieldEncryption: encryption,
      reportedAt: new Date().toISOString(),
    };
  }

  private async figures(): Promise<{ backlog: number; oldest: number | null; parked: number }> {
    const { rows } = await sql<{ backlog: string; oldest: string | null; parked: string }>`
      select (select count(*) from outbox where published_at is null) as backlog,
             (select extract(epoch from now() - min(created_at)) from outbox where published_at is null) as oldest,
             (select count(*) from parked_events where resolved_at is null) as parked`.execute(this.opts.db);
    const row = rows[0]!;
    return { backlog: Number(row.backlog), oldest: row.oldest === null ? null : Math.max(0, Number(row.oldest)), parked: Number(row.parked) };
  }

  private async consumerFigures(previous: ConsumerHealth[]): Promise<ConsumerHealth[]> {
    return Promise.all(
      this.opts.consumers().map(async ({ name, state }) => {
        const info = this.opts.connected() ? await within(1000, this.opts.jsm.consumers.info(this.opts.stream, name)).catch(() => null) : null;
        if (info) return { name, pending: info.num_pending, ackPending: info.num_ack_pending, state };
        // Figures it could not read are the last it had — never zeros, which would read as drained.
        const known = previous.find((c) => c.name === name);
        return { name, pending: known?.pending ?? 0, ackPending: known?.ackPending ?? 0, state: known ? state : 'stopped' };
      }),
    );
  }
}
