/**
 * The ops view (docs/operations.md): what an operator needs to see without SQL or the NATS CLI.
 *
 * - Every service instance reports a health snapshot — ready, outbox backlog and the age of its oldest
 *   unpublished event, parked events, each durable consumer's pending and ack-pending counts — every
 *   few seconds, as Prometheus gauges on its own `/metrics` and into the NATS KV bucket
 *   `<PREFIX>_EVENTS_OPS` under `<service>.<instance>` (the bucket forgets an instance that stopped
 *   reporting). No personal data: counts, ages, consumer names.
 * - Every service answers requests about its own parked events on `<prefix>.ops.<service>.parked.*`
 *   (one instance per request, a queue group): a list without payloads, and a replay through the
 *   consumer that parked it. A request carries the caller's actor token from the gateway (for the ops view's service),
 *   and the answering service checks the role itself.
 * - One subgraph (subjects) serves `platformHealth`, `parkedEvents` and `replayParkedEvent`,
 *   assembling the four services' snapshots and answers (`OpsView`, `opsResolvers`).
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { sql, type Kysely } from 'kysely';
import type { JetStreamClient, JetStreamManager, KV, Msg, NatsConnection, Subscription } from 'nats';
import { z } from 'zod';
import { hasAnyRole, type Actor, type ActorTokenVerifier } from './auth/actor';
import { rolesFor } from './auth/permissions';
import type { Guard, RequestScope } from './auth/guard';
import { isEventType } from './events/catalog';
import type { ConsumerState, EventConsumer, ReplayOutcome } from './events/consumer';
import { streamName } from './events/envelope';
import type { PlatformTables } from './events/migrations';
import { BadUserInputError, NotFoundError } from './errors';
import { GraphQLError } from 'graphql';
import { t, type Locale } from './i18n';
import type { FieldEncryptionState } from './field-encryption';
import { safeError, scrubText, type Logger } from './logger';
import {
  consumerAckPending,
  consumerPending,
  fieldReencryptionPending,
  outboxBacklog,
  outboxOldestUnpublished,
  parkedEventsGauge,
  serviceReady,
} from './metrics';

/** The services of the ops view (the gateway has no outbox, consumers or parked events). */
export const OPS_SERVICES = ['subjects', 'appeals', 'consents', 'audit'] as const;
export type OpsService = (typeof OPS_SERVICES)[number];
/**
 * The subgraph that serves the ops view (`opsView` in its definition): the actor tokens it forwards
 * to the other services are the gateway's tokens for it, so they check that audience.
 */
export const OPS_VIEW_SERVICE: OpsService = 'subjects';

/** The KV bucket of health snapshots; named under the event stream, so what removes a deployment's streams finds it. */
export function opsBucket(prefix: string): string {
  return `${streamName(prefix)}_OPS`;
}

function opsSubject(prefix: string, service: OpsService, action: 'list' | 'replay'): string {
  return `${prefix}.ops.${service}.parked.${action}`;
}

/** One name per process, also a valid KV key token: host, pid and a random tail. */
export function instanceId(): string {
  return `${hostname()
    .replace(/[^A-Za-z0-9_-]/g, '_')
    .slice(0, 40)}-${process.pid}-${randomBytes(3).toString('hex')}`;
}

const consumerHealthSchema = z.object({
  name: z.string().max(100),
  pending: z.number().int().min(0),
  ackPending: z.number().int().min(0),
  /** What the reporting instance's consumer does (absent from an instance of an older version: taken as consuming). */
  state: z.enum(['consuming', 'standby', 'stopped']).default('consuming'),
});
const fieldEncryptionSchema = z.object({
  table: z.string().regex(/^[a-z][a-z0-9_]{0,62}$/),
  keyId: z.string().max(40).nullable(),
  completedAt: z.iso.datetime().nullable(),
  legacyRetiredAt: z.iso.datetime().nullable(),
  pending: z.number().int().min(0),
  unreadable: z.number().int().min(0),
});

export const healthSnapshotSchema = z.object({
  service: z.enum(OPS_SERVICES),
  instance: z.string().regex(/^[\w-]{1,100}$/),
  ready: z.boolean(),
  checks: z.record(z.string().max(40), z.string().max(200)),
  outboxBacklog: z.number().int().min(0),
  oldestUnpublishedSeconds: z.number().min(0).nullable(),
  parkedEvents: z.number().int().min(0),
  consumers: z.array(consumerHealthSchema).max(50),
  relayListening: z.boolean(),
  /** Each encrypted table's re-encryption (field-encryption.ts); absent from an instance of an older version. */
  fieldEncryption: z.array(fieldEncryptionSchema).max(50).default([]),
  reportedAt: z.iso.datetime(),
});
export type HealthSnapshot = z.infer<typeof healthSnapshotSchema>;
export type ConsumerHealth = z.infer<typeof consumerHealthSchema>;

/** Rejects after `ms`: no figure of the ops view may wait for a dependency that is down. */
function within<T>(ms: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    work,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('timeout')), ms);
      timer.unref();
    }),
  ]).finally(() => clearTimeout(timer));
}

const json = {
  encode: (value: unknown) => new TextEncoder().encode(JSON.stringify(value)),
  decode: (data: Uint8Array): unknown => JSON.parse(new TextDecoder().decode(data)),
};

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

/** How long the bucket keeps a snapshot: an instance that stopped reporting disappears after it. */
export function snapshotTtlMs(intervalMs: number): number {
  return Math.max(30_000, 10 * intervalMs);
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

/** A parked event as ops see it: never the payload. */
export interface ParkedEventView {
  id: string;
  service: OpsService;
  consumer: string;
  eventId: string | null;
  type: string | null;
  error: string;
  deliveries: number;
  parkedAt: string;
  resolvedAt: string | null;
}

const parkedViewSchema = z.object({
  id: z.string(),
  service: z.enum(OPS_SERVICES),
  consumer: z.string(),
  eventId: z.string().nullable(),
  type: z.string().nullable(),
  error: z.string(),
  deliveries: z.number().int(),
  parkedAt: z.string(),
  resolvedAt: z.string().nullable(),
});

const SEQ = /^[1-9]\d{0,17}$/;
const listRequest = z.object({ token: z.string().min(1).max(4000), first: z.number().int().min(1).max(200) });
const replayRequest = z.object({ token: z.string().min(1).max(4000), id: z.string().regex(SEQ) });
const opsReply = z.discriminatedUnion('ok', [
  z.object({
    ok: z.literal(true),
    items: z.array(parkedViewSchema).max(200).optional(),
    item: parkedViewSchema.optional(),
    outcome: z.enum(['APPLIED', 'DUPLICATE', 'FAILED', 'REJECTED']).optional(),
  }),
  z.object({ ok: z.literal(false), code: z.enum(['FORBIDDEN', 'NOT_FOUND', 'BAD_USER_INPUT', 'UNAVAILABLE']) }),
]);

export interface OpsResponderOptions {
  nc: NatsConnection;
  prefix: string;
  service: OpsService;
  db: Kysely<any>;
  consumers: EventConsumer[];
  /** Checks the caller's actor token that the ops view forwarded (its audience is the ops view's service). */
  actorTokens: ActorTokenVerifier;
  logger: Logger;
}

/**
 * Answers ops requests about this service's parked events; one instance of the service answers each
 * (queue group). The caller's role is checked here again, from the signed actor token in the request.
 */
export class OpsResponder {
  private subs: Subscription[] = [];

  constructor(private readonly opts: OpsResponderOptions) {}

  start(): void {
    const { nc, prefix, service } = this.opts;
    const queue = `ops-${service}`;
    this.subs = [
      nc.subscribe(opsSubject(prefix, service, 'list'), {
        queue,
        callback: (err, msg) => void (err ? undefined : this.answer(msg, (body) => this.list(body))),
      }),
      nc.subscribe(opsSubject(prefix, service, 'replay'), {
        queue,
        callback: (err, msg) => void (err ? undefined : this.answer(msg, (body) => this.replay(body))),
      }),
    ];
  }

  async stop(): Promise<void> {
    for (const sub of this.subs) sub.unsubscribe();
    this.subs = [];
  }

  private async answer(msg: Msg, work: (body: unknown) => Promise<z.infer<typeof opsReply>>): Promise<void> {
    let reply: z.infer<typeof opsReply>;
    try {
      reply = await work(json.decode(msg.data));
    } catch (err) {
      this.opts.logger.error({ err: safeError(err) }, 'ops request failed');
      reply = { ok: false, code: 'UNAVAILABLE' };
    }
    if (msg.reply) msg.respond(json.encode(reply));
  }

  private async authorize(token: string): Promise<{ actor: Actor; requestId: string } | null> {
    try {
      const { actor, meta } = this.opts.actorTokens.verify(token, OPS_VIEW_SERVICE);
      // The permission table's roles for parked events (OPS), checked again by the service that holds them.
      return hasAnyRole(actor, rolesFor('Query.parkedEvents')) && hasAnyRole(actor, rolesFor('Mutation.replayParkedEvent'))
        ? { actor, requestId: meta.requestId }
        : null;
    } catch {
      return null;
    }
  }

  private get db() {
    return this.opts.db as Kysely<PlatformTables>;
  }

  private view(row: {
    id: string;
    consumer: string;
    event_id: string | null;
    subject: string;
    error: string;
    deliveries: number;
    parked_at: Date;
    resolved_at: Date | null;
  }): ParkedEventView {
    const eventsPrefix = `${this.opts.prefix}.events.`;
    const type = row.subject.startsWith(eventsPrefix) ? row.subject.slice(eventsPrefix.length) : '';
    return {
      id: row.id,
      service: this.opts.service,
      consumer: row.consumer,
      eventId: row.event_id !== null && /^[0-9a-f-]{36}$/i.test(row.event_id) ? row.event_id : null,
      type: isEventType(type) ? type : null,
      // Parked errors are already scrubbed (safeError); once more, in case an older row was not.
      error: scrubText(row.error).slice(0, 500),
      deliveries: row.deliveries,
      parkedAt: row.parked_at.toISOString(),
      resolvedAt: row.resolved_at ? row.resolved_at.toISOString() : null,
    };
  }

  private columns = ['id', 'consumer', 'event_id', 'subject', 'error', 'deliveries', 'parked_at', 'resolved_at'] as const;

  private async list(body: unknown): Promise<z.infer<typeof opsReply>> {
    const parsed = listRequest.safeParse(body);
    if (!parsed.success) return { ok: false, code: 'BAD_USER_INPUT' };
    if (!(await this.authorize(parsed.data.token))) return { ok: false, code: 'FORBIDDEN' };
    const rows = await this.db
      .selectFrom('parked_events')
      .select([...this.columns])
      .where('resolved_at', 'is', null)
      .orderBy('id', 'desc')
      .limit(parsed.data.first)
      .execute();
    return { ok: true, items: rows.map((r) => this.view(r)) };
  }

  private async replay(body: unknown): Promise<z.infer<typeof opsReply>> {
    const parsed = replayRequest.safeParse(body);
    if (!parsed.success) return { ok: false, code: 'BAD_USER_INPUT' };
    const caller = await this.authorize(parsed.data.token);
    if (!caller) return { ok: false, code: 'FORBIDDEN' };
    const row = await this.db
      .selectFrom('parked_events')
      .select(['id', 'consumer', 'event_id', 'subject', 'payload'])
      .where('id', '=', parsed.data.id)
      .where('resolved_at', 'is', null)
      .executeTakeFirst();
    const consumer = row && this.opts.consumers.find((c) => c.name === row.consumer);
    if (!row || !consumer) return { ok: false, code: 'NOT_FOUND' };
    const outcome = await consumer.replay(row, caller.actor, caller.requestId);
    this.opts.logger.info({ parkedId: row.id, consumer: row.consumer, eventId: row.event_id, outcome, actor: caller.actor.id }, 'parked event replayed');
    const after = await this.db
      .selectFrom('parked_events')
      .select([...this.columns])
      .where('id', '=', row.id)
      .executeTakeFirstOrThrow();
    return { ok: true, item: this.view(after), outcome };
  }
}

/** A service's health as `platformHealth` shows it. */
export interface ServiceHealthView {
  name: OpsService;
  ready: boolean;
  outboxBacklog: number;
  oldestUnpublishedSeconds: number | null;
  parkedEvents: number;
  consumers: ConsumerHealth[];
  /** Instances that reported lately. */
  instances: number;
  /**
   * Nothing waiting: reported lately, no outbox backlog, and every consumer consuming (in one of the
   * instances) with nothing pending or unacknowledged. Never true while a consumer is behind or stopped.
   */
  drained: boolean;
  relayListening: boolean;
  fieldEncryption: FieldEncryptionState[];
  reportedAt: string | null;
}

export interface PlatformHealthView {
  ready: boolean;
  /** Every service drained. */
  drained: boolean;
  services: ServiceHealthView[];
}

export interface OpsViewOptions {
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
  prefix: string;
  stream: string;
  connected: () => boolean;
  /** A snapshot older than this is an instance that stopped reporting (3 × the report interval). */
  staleAfterMs: number;
  replicas: number;
  requestTimeoutMs?: number;
}

/** A GraphQL error of the ops view: a dependency did not answer; never its address or the library's text. */
export class UnavailableError extends GraphQLError {
  constructor(locale: Locale, services: OpsService[]) {
    super(t('ops.unavailable', locale), { extensions: { code: 'UNAVAILABLE', services } });
  }
}

/** Assembles the platform's health and parked events for the ops subgraph. */
export class OpsView {
  private kv: KV | null = null;
  private cache: HealthSnapshot[] = [];

  constructor(private readonly opts: OpsViewOptions) {}

  private async snapshots(): Promise<HealthSnapshot[]> {
    if (!this.opts.connected()) return this.cache;
    try {
      const read = async () => {
        this.kv ??= await this.opts.js.views.kv(opsBucket(this.opts.prefix), {
          history: 1,
          ttl: snapshotTtlMs(this.opts.staleAfterMs / 3),
          replicas: this.opts.replicas,
        });
        const kv = this.kv;
        // A key written again while they are listed may come twice.
        const keys = new Set<string>();
        for await (const key of await kv.keys()) {
          keys.add(key);
          if (keys.size >= 200) break;
        }
        const entries = await Promise.all([...keys].map((key) => kv.get(key)));
        return entries.flatMap((entry) => {
          if (!entry || entry.operation !== 'PUT') return [];
          const parsed = healthSnapshotSchema.safeParse(json.decode(entry.value));
          return parsed.success ? [parsed.data] : [];
        });
      };
      this.cache = await within(1500, read());
    } catch {
      this.kv = null;
    }
    return this.cache;
  }

  async platformHealth(): Promise<PlatformHealthView> {
    const snapshots = await this.snapshots();
    const now = Date.now();
    const services = await Promise.all(
      OPS_SERVICES.map(async (name): Promise<ServiceHealthView> => {
        const own = snapshots.filter((s) => s.service === name).sort((a, b) => b.reportedAt.localeCompare(a.reportedAt));
        const fresh = own.filter((s) => now - Date.parse(s.reportedAt) <= this.opts.staleAfterMs);
        const latest = own[0];
        if (!latest) {
          return {
            name,
            ready: false,
            outboxBacklog: 0,
            oldestUnpublishedSeconds: null,
            parkedEvents: 0,
            consumers: [],
            instances: 0,
            drained: false,
            relayListening: false,
            fieldEncryption: [],
            reportedAt: null,
          };
        }
        // Consumer lag lives in NATS, not in the service: read it live, so a service that is down
        // still shows its lag growing.
        const figures = fresh.length > 0 ? latest.consumers : await this.liveConsumers(latest.consumers);
        // A consumer consumes when any instance that reported lately says so (an ordered one: the one
        // holding its lock); with none reporting, nothing consumes.
        const consumers = figures.map((c) => ({ ...c, state: stateAcross(fresh, c.name) }));
        const drained =
          fresh.length > 0 && latest.outboxBacklog === 0 && consumers.every((c) => c.state === 'consuming' && c.pending === 0 && c.ackPending === 0);
        return {
          name,
          ready: fresh.some((s) => s.ready),
          outboxBacklog: latest.outboxBacklog,
          oldestUnpublishedSeconds: latest.oldestUnpublishedSeconds,
          parkedEvents: latest.parkedEvents,
          consumers,
          instances: fresh.length,
          drained,
          relayListening: fresh.some((s) => s.relayListening),
          fieldEncryption: latest.fieldEncryption,
          reportedAt: latest.reportedAt,
        };
      }),
    );
    return { ready: services.every((s) => s.ready), drained: services.every((s) => s.drained), services };
  }

  private async liveConsumers(known: ConsumerHealth[]): Promise<ConsumerHealth[]> {
    if (!this.opts.connected()) return known;
    return Promise.all(
      known.map(async (c) => {
        const info = await within(750, this.opts.jsm.consumers.info(this.opts.stream, c.name)).catch(() => null);
        return info ? { ...c, pending: info.num_pending, ackPending: info.num_ack_pending } : c;
      }),
    );
  }

  private async ask(scope: RequestScope, service: OpsService, action: 'list' | 'replay', body: Record<string, unknown>) {
    // The caller's own token from the gateway, forwarded: the service asked checks it again (a
    // subgraph holds no key to make one; the token's audience is the ops view's service).
    const token = scope.credential;
    if (!token) throw new UnavailableError(scope.meta.locale, [service]);
    let reply: z.infer<typeof opsReply>;
    try {
      if (!this.opts.connected()) throw new Error('disconnected');
      const msg = await this.opts.nc.request(opsSubject(this.opts.prefix, service, action), json.encode({ ...body, token }), {
        // A busy service may take a moment; a service that is down does not answer at all (no responders).
        timeout: this.opts.requestTimeoutMs ?? (action === 'replay' ? 15_000 : 5_000),
      });
      reply = opsReply.parse(json.decode(msg.data));
    } catch {
      throw new UnavailableError(scope.meta.locale, [service]);
    }
    if (!reply.ok) {
      if (reply.code === 'NOT_FOUND') throw new NotFoundError(scope.meta.locale, 'ParkedEvent');
      if (reply.code === 'BAD_USER_INPUT') throw new BadUserInputError('id', 'input.invalid', scope.meta.locale);
      if (reply.code === 'FORBIDDEN') throw new GraphQLError(t('auth.forbidden', scope.meta.locale), { extensions: { code: 'FORBIDDEN' } });
      throw new UnavailableError(scope.meta.locale, [service]);
    }
    return reply;
  }

  /** Unresolved parked events, newest first; every service asked at once, each answering for itself. */
  async parkedEvents(scope: RequestScope, service: OpsService | null, first: number): Promise<ParkedEventView[]> {
    const services = service ? [service] : [...OPS_SERVICES];
    const answers = await Promise.allSettled(services.map((s) => this.ask(scope, s, 'list', { first })));
    const failed = services.filter((_, i) => answers[i]!.status === 'rejected');
    if (failed.length > 0) {
      const forbidden = answers.find((a) => a.status === 'rejected' && (a.reason as GraphQLError).extensions?.code === 'FORBIDDEN');
      if (forbidden) throw (forbidden as PromiseRejectedResult).reason;
      throw new UnavailableError(scope.meta.locale, failed);
    }
    return answers
      .flatMap((a) => (a.status === 'fulfilled' ? (a.value.items ?? []) : []))
      .sort((a, b) => b.parkedAt.localeCompare(a.parkedAt))
      .slice(0, first) as ParkedEventView[];
  }

  async replay(scope: RequestScope, service: OpsService, id: string): Promise<ParkedEventView & { outcome: ReplayOutcome }> {
    const reply = await this.ask(scope, service, 'replay', { id });
    if (!reply.item || !reply.outcome) throw new UnavailableError(scope.meta.locale, [service]);
    return { ...(reply.item as ParkedEventView), outcome: reply.outcome };
  }
}

/** What a consumer does across a service's instances: consuming in any, else standing by in any, else stopped. */
function stateAcross(snapshots: HealthSnapshot[], name: string): ConsumerState {
  const states = snapshots.flatMap((s) => s.consumers.filter((c) => c.name === name).map((c) => c.state));
  if (states.includes('consuming')) return 'consuming';
  return states.includes('standby') ? 'standby' : 'stopped';
}

const serviceArg = z.enum(OPS_SERVICES);

/**
 * The ops view's resolvers, merged into the subgraph that serves it (subjects). Roles from the
 * permission table: platformHealth OPS and DPO; parkedEvents and replayParkedEvent OPS; a refusal is
 * recorded like any other.
 */
export function opsResolvers(view: OpsView, guard: Guard) {
  const service = (value: unknown, locale: Locale): OpsService => {
    const parsed = serviceArg.safeParse(value);
    if (!parsed.success) throw new BadUserInputError('service', 'input.invalid', locale);
    return parsed.data;
  };
  return {
    Query: {
      async platformHealth(_: unknown, __: unknown, ctx: RequestScope) {
        await guard.authorize(ctx, 'Query.platformHealth');
        const health = await view.platformHealth();
        // The schema's enum values are upper case.
        return {
          ...health,
          services: health.services.map((svc) => ({ ...svc, consumers: svc.consumers.map((c) => ({ ...c, state: c.state.toUpperCase() })) })),
        };
      },
      async parkedEvents(_: unknown, args: { service?: string | null; first?: number | null }, ctx: RequestScope) {
        await guard.authorize(ctx, 'Query.parkedEvents');
        const first = args.first ?? 50;
        if (!Number.isInteger(first) || first < 1 || first > 200) throw new BadUserInputError('first', 'page.range', ctx.meta.locale, { max: 200 });
        return view.parkedEvents(ctx, args.service == null ? null : service(args.service, ctx.meta.locale), first);
      },
    },
    Mutation: {
      async replayParkedEvent(_: unknown, args: { service: string; id: string }, ctx: RequestScope) {
        await guard.authorize(ctx, 'Mutation.replayParkedEvent');
        // One error per bad argument, the id first.
        const problems = [
          ...(SEQ.test(args.id) ? [] : [new BadUserInputError('id', 'id.invalid', ctx.meta.locale)]),
          ...(serviceArg.safeParse(args.service).success ? [] : [new BadUserInputError('service', 'input.invalid', ctx.meta.locale)]),
        ];
        if (problems.length > 0) throw BadUserInputError.many(problems);
        return view.replay(ctx, service(args.service, ctx.meta.locale), args.id);
      },
    },
  };
}

/**
 * Argument formats of the ops view for the shared argument check, which asks the permission table
 * first (a caller without the role is FORBIDDEN whatever it sent) and then names every bad argument
 * at once: a parked event's id is a sequence number, a service one of the services.
 */
export const OPS_ARGUMENT_IDS = { 'Mutation.replayParkedEvent.id': 'seq' } as const;
/** A service argument of the ops view names one of the services, checked with the id (both named at once). */
const SERVICE_NAME = new RegExp(`^(${OPS_SERVICES.join('|')})$`);
export const OPS_ARGUMENT_TEXTS = { 'Mutation.replayParkedEvent.service': SERVICE_NAME, 'Query.parkedEvents.service': SERVICE_NAME };
