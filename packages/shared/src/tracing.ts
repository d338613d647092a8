/**
 * Traces across the federation (OpenTelemetry). One trace follows a request from the gateway through
 * each subgraph call, the database statements, the outbox row, the relay's NATS publish and every
 * consumer that handles the event (the W3C `traceparent` stored in the outbox row, then carried in
 * the message's headers), and what those consumers write and emit in turn (the audit's record).
 *
 * Configured only by the standard `OTEL_*` variables (the SDK's own reading of them:
 * `@opentelemetry/sdk-node`'s `startNodeSdk`). Tracing is on when the process is told where to send
 * spans — `OTEL_TRACES_EXPORTER` (`otlp`, `console`) or an `OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT` —
 * and `OTEL_SDK_DISABLED` is not `true`. Off, no SDK is started, nothing is wrapped and no middleware
 * is mounted: each instrumented place asks `tracingOn()` (a boolean) once and takes its untraced path.
 *
 * The spans are made here by hand, with the API, at the few places that matter: the platform runs
 * as ESM bundles (scripts/build.ts), where the instrumentations that patch modules as they load would
 * need a loader hook before every import; these wrappers need none. No span attribute holds personal
 * data: statements are recorded as text with every literal replaced (parameters are never recorded),
 * URLs without their query, events by id and type only (docs/security.md, tests/e2e/tracing.test.ts).
 */
import {
  context,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Link,
  type Span,
  type TextMapGetter,
  type Tracer,
} from '@opentelemetry/api';
import type { NextFunction, Request, Response } from 'express';
import { headers as natsHeaders, type MsgHdrs } from 'nats';

let enabled = false;
let sdk: { shutdown(): Promise<void> } | null = null;
let tracer: Tracer | null = null;

/** Whether the environment asks for traces (see the module's comment). */
export function tracingRequested(env: NodeJS.ProcessEnv = process.env): boolean {
  if ((env.OTEL_SDK_DISABLED ?? '').trim().toLowerCase() === 'true') return false;
  const exporters = (env.OTEL_TRACES_EXPORTER ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (exporters.length > 0) return !exporters.includes('none');
  return Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim() || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim());
}

/**
 * Starts the SDK once per process when the environment asks for traces; `service` names the process
 * (`service.name`, unless `OTEL_SERVICE_NAME` says otherwise). Several services in one process
 * (tests, benches) share the first one's. Returns whether tracing is on.
 */
export async function startTracing(service: string): Promise<boolean> {
  if (sdk) return enabled;
  if (!tracingRequested()) {
    sdk = { shutdown: async () => undefined };
    return false;
  }
  sdk = { shutdown: async () => undefined };
  // Loaded only when tracing: off, a process does not even load the SDK and its exporters.
  const [{ startNodeSdk }, { resourceFromAttributes }] = await Promise.all([import('@opentelemetry/sdk-node'), import('@opentelemetry/resources')]);
  sdk = startNodeSdk({
    baseResource: resourceFromAttributes({ 'service.name': service, 'service.namespace': 'pdp' }),
    // Traces only: the metrics are Prometheus's (/metrics), the logs pino's on stdout.
    metricReaders: [],
    logRecordProcessors: [],
  });
  tracer = trace.getTracer('pdp');
  enabled = true;
  return true;
}

/** Sends what is still buffered and stops the SDK (at the end of a process's shutdown). */
export async function stopTracing(): Promise<void> {
  const running = sdk;
  sdk = null;
  tracer = null;
  enabled = false;
  // A collector that does not answer must not hold a stopping process for the exporter's 30 s.
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<void>((resolve) => (timer = setTimeout(resolve, 5000)));
  await Promise.race([running?.shutdown().catch(() => undefined), bound]);
  clearTimeout(timer);
}

/** True while this process traces. Every instrumented place asks this first and, when false, does nothing more. */
export function tracingOn(): boolean {
  return enabled;
}

function activeTracer(): Tracer {
  return tracer ?? trace.getTracer('pdp');
}

/** The active trace's ids, for a log line (pino's mixin; see logger.ts); empty outside a trace. */
export function traceFields(): { trace_id?: string; span_id?: string } {
  if (!enabled) return {};
  const span = trace.getSpan(context.active());
  if (!span) return {};
  const { traceId, spanId } = span.spanContext();
  return { trace_id: traceId, span_id: spanId };
}

/** The W3C `traceparent` of the active span, or null (tracing off, or no trace here). */
export function currentTraceparent(ctx: Context = context.active()): string | null {
  if (!enabled || !trace.getSpan(ctx)) return null;
  const carrier: Record<string, string> = {};
  propagation.inject(ctx, carrier);
  return carrier.traceparent ?? null;
}

/** The context a stored or received `traceparent` (and `tracestate`) continue. */
export function contextFrom(carrier: Record<string, string | undefined>): Context {
  return propagation.extract(ROOT_CONTEXT, carrier);
}

/** Adds `traceparent`/`tracestate` of `ctx` (the active one by default) to outgoing headers. */
export function injectTrace(headers: Record<string, string>, ctx: Context = context.active()): void {
  propagation.inject(ctx, headers);
}

function fail(span: Span, err: unknown): void {
  // The error's name only: a message may quote a value (a driver's detail, the caller's input).
  span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.name : 'error' });
}

/** Runs `fn` in a new active span; ends it when `fn` settles (an error sets the status, by name only). */
export async function inSpan<T>(
  name: string,
  options: { kind?: SpanKind; attributes?: Attributes; links?: Link[] },
  fn: (span: Span) => Promise<T>,
  parent?: Context,
): Promise<T> {
  const ctx = parent ?? context.active();
  return activeTracer().startActiveSpan(name, options, ctx, async (span) => {
    try {
      return await fn(span);
    } catch (err) {
      fail(span, err);
      throw err;
    } finally {
      span.end();
    }
  });
}

// ---------------------------------------------------------------------------------------- HTTP ---

const headerGetter: TextMapGetter<Request['headers']> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => carrier[key],
};

/**
 * Express middleware: a SERVER span for each request, continuing the caller's `traceparent` (the
 * gateway's, at a subgraph). Recorded: method, route, path (never the query: a GET's variables are
 * there), status. Mount it only when `tracingOn()`.
 */
export function traceRequests(route: string) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const parent = propagation.extract(ROOT_CONTEXT, req.headers, headerGetter);
    const span = activeTracer().startSpan(
      `${req.method} ${route}`,
      { kind: SpanKind.SERVER, attributes: { 'http.request.method': req.method, 'http.route': route, 'url.path': route } },
      parent,
    );
    const ctx = trace.setSpan(parent, span);
    res.once('finish', () => {
      span.setAttribute('http.response.status_code', res.statusCode);
      if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    });
    res.once('close', () => {
      if (!res.writableFinished) {
        span.setStatus({ code: SpanStatusCode.ERROR, message: 'aborted' });
        span.end();
      }
    });
    // The body arrives in the socket's events, outside this call: they must run in the span too.
    context.bind(ctx, req);
    context.bind(ctx, res);
    context.with(ctx, next);
  };
}

/** A CLIENT span around an HTTP call (the gateway's to a subgraph); `headers` get the trace context. */
export function traceHttpCall<T extends { status: number }>(
  target: { url: string; name: string; method: string },
  headers: Record<string, string>,
  call: (headers: Record<string, string>) => Promise<T>,
): Promise<T> {
  const url = new URL(target.url);
  return inSpan(
    `${target.method} ${target.name}`,
    {
      kind: SpanKind.CLIENT,
      attributes: {
        'http.request.method': target.method,
        'server.address': url.hostname,
        'server.port': Number(url.port || 80),
        'url.full': `${url.origin}${url.pathname}`,
        'pdp.subgraph': target.name,
      },
    },
    async (span) => {
      const traced = { ...headers };
      injectTrace(traced);
      const res = await call(traced);
      span.setAttribute('http.response.status_code', res.status);
      if (res.status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      return res;
    },
  );
}

// ------------------------------------------------------------------------------------ Database ---

/**
 * A statement's text with every literal replaced by `?`: quoted strings, dollar-quoted strings, and
 * numbers that are not a parameter (`$1`) or part of a name. Kysely passes values as parameters, but
 * a hand-written statement may not; what is left says what was done, never to what or whom.
 */
export function sanitizeStatement(text: string): string {
  return text
    .replace(/\$([A-Za-z_]\w*)?\$[\s\S]*?\$\1\$/g, '?')
    .replace(/[EeBbXxUu]?'(?:[^']|'')*'/g, '?')
    .replace(/(?<![\w$.])[-+]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?\b/g, '?')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, 2000);
}

type Query = (...args: unknown[]) => unknown;

/**
 * Wraps a pg client's `query` so each statement made inside a trace is a CLIENT span (statements
 * outside any trace — the relay's poll, health reports — make none). Promise-style calls only (what
 * kysely makes); a callback-style or streaming call passes through untouched.
 */
export function traceQueries(pgClient: object, where: { database: string; host: string; port: number }): void {
  const client = pgClient as { query: Query };
  const original = client.query.bind(client);
  client.query = (...args: unknown[]) => {
    const parent = context.active();
    if (!trace.getSpan(parent) || typeof args.at(-1) === 'function') return original(...args);
    const first = args[0];
    // A submittable (a cursor, a stream) is returned as it is, not as a promise.
    if (first && typeof first === 'object' && typeof (first as { submit?: unknown }).submit === 'function') return original(...args);
    const text =
      typeof first === 'string'
        ? first
        : first && typeof first === 'object' && typeof (first as { text?: unknown }).text === 'string'
          ? (first as { text: string }).text
          : null;
    if (text === null) return original(...args);
    const statement = sanitizeStatement(text);
    const operation = /^\s*(\w+)/.exec(statement)?.[1]?.toUpperCase() ?? 'QUERY';
    return inSpan(
      `${operation} ${where.database}`,
      {
        kind: SpanKind.CLIENT,
        attributes: {
          'db.system.name': 'postgresql',
          'db.namespace': where.database,
          'db.operation.name': operation,
          'db.query.text': statement,
          'server.address': where.host,
          'server.port': where.port,
        },
      },
      () => Promise.resolve(original(...args)),
      parent,
    );
  };
}

// ------------------------------------------------------------------------------------- Events ---

/** Messaging attributes of an event: its subject, id and type; never its subject's id or data. */
function eventAttributes(subject: string, eventId: string, type: string, operation: string): Attributes {
  return {
    'messaging.system': 'nats',
    'messaging.operation.type': operation,
    'messaging.destination.name': subject,
    'messaging.message.id': eventId,
    'pdp.event.type': type,
  };
}

/**
 * The outbox row's trace context: a PRODUCER span ("create") for the event, child of the active span,
 * ended at once; its `traceparent` is stored with the row, and the relay's publish continues it.
 * Null when tracing is off or nothing is traced here.
 */
export function outboxTraceContext(subject: string, eventId: string, type: string): string | null {
  if (!enabled) return null;
  const parent = context.active();
  if (!trace.getSpan(parent)) return null;
  const span = activeTracer().startSpan(`create ${type}`, { kind: SpanKind.PRODUCER, attributes: eventAttributes(subject, eventId, type, 'create') }, parent);
  span.end();
  return currentTraceparent(trace.setSpan(parent, span));
}

/**
 * The relay's publish of one outbox row: a PRODUCER span continuing the row's stored context, and
 * the headers that carry it on to the consumers. Tracing off, a stored context is passed on as it is.
 */
export async function tracePublish<T>(
  row: { subject: string; id: string; trace_context: string | null },
  publish: (headers: Record<string, string> | null) => Promise<T>,
): Promise<T> {
  if (!row.trace_context) return publish(null);
  if (!enabled) return publish({ traceparent: row.trace_context });
  const type = row.subject.slice(row.subject.indexOf('.events.') + 8);
  return inSpan(
    `publish ${type}`,
    { kind: SpanKind.PRODUCER, attributes: eventAttributes(row.subject, row.id, type, 'send') },
    async () => {
      const headers: Record<string, string> = {};
      injectTrace(headers);
      return publish(headers);
    },
    contextFrom({ traceparent: row.trace_context }),
  );
}

/** NATS message headers carrying a trace context (`tracePublish`'s), or none. */
export function natsTraceHeaders(carried: Record<string, string> | null): MsgHdrs | undefined {
  if (!carried) return undefined;
  const h = natsHeaders();
  for (const [key, value] of Object.entries(carried)) h.set(key, value);
  return h;
}

/** What the consumer knows of a delivered message: its subject, its headers' trace context, its event. */
export interface TracedDelivery {
  subject: string;
  headers?: { get(key: string): string } | undefined;
  event: { id: string; type: string };
}

function deliveryContext(d: TracedDelivery): Context | null {
  const traceparent = d.headers?.get('traceparent');
  if (!traceparent) return null;
  return contextFrom({ traceparent, tracestate: d.headers?.get('tracestate') || undefined });
}

/**
 * A consumer's handling of delivered events: one CONSUMER span ("process") per event that came with
 * a trace context, child of its publish; `fn` (the handler's transaction) runs in the first one's,
 * so its statements and the events it emits continue that trace, and the others link to it. Events
 * without a context (produced untraced) make no span.
 */
export async function traceConsume<T>(consumer: string, deliveries: () => TracedDelivery[], fn: () => Promise<T>): Promise<T> {
  if (!enabled) return fn();
  const spans: Span[] = [];
  let first: Context | null = null;
  for (const d of deliveries()) {
    const parent = deliveryContext(d);
    if (!parent) continue;
    const span = activeTracer().startSpan(
      `process ${d.event.type}`,
      {
        kind: SpanKind.CONSUMER,
        attributes: { ...eventAttributes(d.subject, d.event.id, d.event.type, 'process'), 'messaging.consumer.group.name': consumer },
        ...(first ? { links: [{ context: trace.getSpanContext(first)! }] } : {}),
      },
      parent,
    );
    spans.push(span);
    first ??= trace.setSpan(parent, span);
  }
  if (!first) return fn();
  try {
    return await context.with(first, fn);
  } catch (err) {
    for (const span of spans) fail(span, err);
    throw err;
  } finally {
    for (const span of spans) span.end();
  }
}
