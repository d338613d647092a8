/** The ops subgraph's view: every service's snapshots and answers assembled (see ../ops.ts). */
import type { JetStreamClient, JetStreamManager, KV, NatsConnection } from 'nats';
import { z } from 'zod';
import type { RequestScope } from '../auth/guard';
import type { ConsumerState, ReplayOutcome } from '../events/consumer';
import { BadUserInputError, NotFoundError } from '../errors';
import { GraphQLError } from 'graphql';
import { t, type Locale } from '../i18n';
import type { FieldEncryptionState } from '../field-encryption';

import {
  OPS_SERVICES,
  type OpsService,
  opsBucket,
  opsSubject,
  healthSnapshotSchema,
  type HealthSnapshot,
  type ConsumerHealth,
  within,
  json,
  snapshotTtlMs,
  type ParkedEventView,
  opsReply,
} from './common';

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
