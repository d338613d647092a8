import { createHmac, hkdfSync } from 'node:crypto';
import {
  currentTraceparent,
  natsTraceHeaders,
  tracePublish,
  ANONYMOUS,
  EventSigner,
  buildEnvelope,
  connectNats,
  natsInboxPrefix,
  natsSubject,
  purposeOfActor,
  registry,
  safeError,
  type Actor,
  type Envelope,
  type Logger,
  type MessageKey,
  type NewEvent,
  type RequestMeta,
} from '@pdp/shared';
import type { DocumentNode, OperationDefinitionNode } from 'graphql';
import type { NatsConnection } from 'nats';
import { Counter, Gauge } from 'prom-client';
import { clientKey } from './rate-limits';
import { rootFieldNames } from './root-fields';

/** An error found before execution, kept language-free so a cached verdict serves every locale. */
export interface Refusal {
  code: string;
  key: MessageKey;
  /** Why, for a program (`extensions.reason`): NO_GRANT, CREDITOR_SUSPENDED. */
  reason?: string;
  field?: string;
  /** graphql-js's own text for schema-validation errors: names from the query, never a value. */
  detail?: string;
  locations?: ReadonlyArray<{ line: number; column: number }>;
}

/** A refusal of the gateway's request gate, before any subgraph was called. */
export interface GateRefusal {
  codes: string[];
  status: number;
  /** Null when authentication failed: nobody is known. */
  actor: Actor | null;
  meta: RequestMeta;
  /** The operation, when the query was valid (its root fields are recorded, never its text). */
  operation?: { document: DocumentNode; node: OperationDefinitionNode };
  /** Why: the token's problem (EXPIRED, ISSUER…) or the registry's denial (NO_GRANT…). */
  reason?: string;
}

export interface RefusalAuditOptions {
  natsUrl: string;
  eventsPrefix: string;
  /** The gateway's Ed25519 event signing key: consumers accept `request.refused` only from it. */
  signingKey: string;
  /** Derives the key of the client-address hash (HKDF; never used as is). */
  secret: string;
  logger: Logger;
  /** Refusals waiting to be sent; beyond it they are counted in summaries, never silently dropped. */
  maxQueue?: number;
}

const refusalsRecorded = new Counter({ name: 'pdp_gateway_refusals_audited_total', help: 'Gateway refusals sent to the audit', registers: [registry] });
const refusalsSummarised = new Counter({
  name: 'pdp_gateway_refusals_summarised_total',
  help: 'Gateway refusals sent only as a count in a summary, because the queue was full',
  registers: [registry],
});
const refusalQueue = new Gauge({ name: 'pdp_gateway_refusal_queue', help: 'Gateway refusals waiting to be sent to the audit', registers: [registry] });

/**
 * Refusals that are denied attempts, recorded for the audit: no or a bad token, a rate limit, a limit
 * on the query's size or shape, introspection in production, a persisted query (a request without
 * the text the gate checks: an attempt to pass it unchecked). Plain bad input (a syntax or schema error,
 * a wrong variable) is answered and not stored anywhere, as at the subgraphs (the contract: "nothing
 * stored anywhere").
 */
export const AUDITED_REFUSALS: ReadonlySet<string> = new Set([
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'RATE_LIMITED',
  'ALIAS_LIMIT',
  'TOKEN_LIMIT',
  'DIRECTIVE_LIMIT',
  'COST_LIMIT',
  'QUERY_TOO_DEEP',
  'INTROSPECTION_DISABLED',
  'PERSISTED_QUERY_NOT_SUPPORTED',
  // The public forms (forms/csrf.ts): a post from another site, a page token that is not ours.
  'CROSS_SITE_POST',
  'FORM_TOKEN_INVALID',
]);

/** The actor of a refusal when authentication failed: no token claim is trusted, so nobody. */
export const UNAUTHENTICATED_ACTOR = Object.freeze({ id: 'unauthenticated', roles: [] as string[] });
const MAX_SUMMARY_KEYS = 1000;

/**
 * Sends every refusal of the gateway's gate to the audit as a signed `request.refused` event,
 * straight to JetStream (the gateway has no database, hence no outbox): published with
 * `msgID` = event id, so a retry after a lost ack is not a second entry; retried with backoff while
 * NATS is away, from a bounded in-memory queue. When the queue is full, further refusals are counted
 * per (codes, client) and sent as summaries (`count` > 1) once it drains: under a flood the audit gets
 * counts instead of one entry each, and nothing is lost without a trace. What is lost for good: the
 * queue of a gateway that crashes while NATS is down (docs/security.md, "The audit log").
 */
export class RefusalAudit {
  private readonly signer: EventSigner;
  private readonly clientKey: Buffer;
  private readonly queue: Envelope[] = [];
  /** The trace context of a queued refusal, while tracing. */
  private readonly traces = new WeakMap<Envelope, string>();
  private readonly summaries = new Map<string, { input: NewEvent<'request.refused'>; count: number }>();
  private nc: NatsConnection | null = null;
  private pumping: Promise<void> | null = null;
  private stopped = false;

  constructor(private readonly opts: RefusalAuditOptions) {
    this.signer = EventSigner.fromKey('gateway', opts.signingKey);
    this.clientKey = Buffer.from(hkdfSync('sha256', opts.secret, 'pdp.gateway', 'client-address-hash', 32));
  }

  /** A keyed hash of the client's address: tells repeated refusals of one client apart, reveals no address. */
  clientOf(ip: string | null): string | null {
    // An IPv6 client is its /64, as the rate limits count it (rate-limits.ts).
    return ip ? createHmac('sha256', this.clientKey).update(clientKey(ip)).digest('hex').slice(0, 32) : null;
  }

  /** Queues a refusal that is a denied attempt; never throws and never waits (the client is answered at once). */
  record(r: GateRefusal): void {
    const codes = [...new Set(r.codes)].filter((c) => AUDITED_REFUSALS.has(c)).slice(0, 10);
    if (this.stopped || codes.length === 0) return;
    const actor = r.actor ?? null;
    const input = {
      type: 'request.refused' as const,
      source: 'gateway' as const,
      actor: actor ? { id: actor.id, roles: [...actor.roles] } : UNAUTHENTICATED_ACTOR,
      subjectId: null,
      correlationId: r.meta.requestId,
      data: {
        codes,
        fields: r.operation ? rootFieldNames(r.operation.document, r.operation.node.selectionSet).slice(0, 20) : [],
        status: r.status,
        client: this.clientOf(r.meta.ip),
        count: 1,
        ...(r.reason ? { reason: r.reason } : {}),
        purpose: purposeOfActor(actor ?? ANONYMOUS),
        creditorId: actor?.creditorId ?? null,
      },
    };
    if (this.queue.length < (this.opts.maxQueue ?? 10_000)) {
      const envelope = this.signer.sign(buildEnvelope(input));
      // While tracing, the audit's recording of the refusal continues the request's trace (tracing.ts).
      const traced = currentTraceparent();
      if (traced) this.traces.set(envelope, traced);
      this.queue.push(envelope);
    } else {
      // Beyond MAX_SUMMARY_KEYS kinds, one last summary counts all the others.
      const exact = `${input.actor.id}\u0000${input.data.codes.join(',')}\u0000${input.data.client ?? ''}`;
      const key = this.summaries.has(exact) || this.summaries.size < MAX_SUMMARY_KEYS ? exact : '*';
      const summary = this.summaries.get(key) ?? { input: key === '*' ? { ...input, data: { ...input.data, client: null, fields: [] } } : input, count: 0 };
      summary.count += 1;
      this.summaries.set(key, summary);
      refusalsSummarised.inc();
    }
    refusalQueue.set(this.queue.length);
    this.pumping ??= this.pump().finally(() => (this.pumping = null));
  }

  /** Sends what is queued, then the summaries; on failure waits and tries again, in order. */
  private async pump(): Promise<void> {
    let failures = 0;
    while (!this.stopped || this.queue.length > 0) {
      const next = this.queue[0] ?? this.nextSummary();
      if (!next) return;
      try {
        this.nc ??= await connectNats(this.opts.natsUrl, 'pdp-gateway', { inboxPrefix: natsInboxPrefix('gateway') });
        const subject = natsSubject(this.opts.eventsPrefix, 'request.refused');
        const nc = this.nc;
        await tracePublish({ subject, id: next.id, trace_context: this.traces.get(next) ?? null }, (carried) =>
          nc.jetstream().publish(subject, JSON.stringify(next), { msgID: next.id, timeout: 5000, ...(carried ? { headers: natsTraceHeaders(carried) } : {}) }),
        );
        if (this.queue[0] === next) this.queue.shift();
        refusalsRecorded.inc();
        refusalQueue.set(this.queue.length);
        failures = 0;
      } catch (err) {
        if (this.stopped) return;
        failures += 1;
        this.opts.logger.warn({ err: safeError(err), queued: this.queue.length }, 'refusal not yet sent to the audit; retrying');
        await new Promise((r) => setTimeout(r, Math.min(30_000, 250 * 2 ** Math.min(failures, 7))));
      }
    }
  }

  /** A summary of refusals that did not fit in the queue, as an event at the head of the queue. */
  private nextSummary(): Envelope | null {
    const [key, summary] = this.summaries.entries().next().value ?? [];
    if (!key || !summary) return null;
    this.summaries.delete(key);
    const envelope = this.signer.sign(buildEnvelope({ ...summary.input, data: { ...summary.input.data, count: summary.count } }));
    this.queue.push(envelope);
    return envelope;
  }

  /** Waits up to `ms` for what is queued to go out, then closes. */
  async stop(ms = 2000): Promise<void> {
    const deadline = Date.now() + ms;
    while ((this.queue.length > 0 || this.summaries.size > 0) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    this.stopped = true;
    if (this.queue.length > 0) this.opts.logger.error({ lost: this.queue.length }, 'refusals not sent to the audit at shutdown');
    await this.nc?.drain().catch(() => undefined);
  }
}
