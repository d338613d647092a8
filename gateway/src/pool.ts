import { STATUS_CODES } from 'node:http';
import { RemoteGraphQLDataSource, type GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { ACTOR_HEADER, READINESS_TIMEOUT_MS, registry, traceHttpCall, tracingOn } from '@pdp/shared';
import { Gauge } from 'prom-client';
import { Agent, request, type Dispatcher } from 'undici';
import type { GatewayContext } from './gateway';

/** The URLs of a subgraph's instances: one, or several comma-separated (`SUBJECTS_URL=http://a/graphql,http://b/graphql`). */
export function subgraphUrls(value: string | readonly string[]): string[] {
  const list = typeof value === 'string' ? value.split(',') : [...value];
  return list.map((u) => u.trim()).filter(Boolean);
}

/** How long an instance that refused a connection is passed over, unless no other is left. */
const DOWN_FOR_MS = 2000;
/** How often each instance's `/readyz` is asked in the background. */
const PROBE_EVERY_MS = 2000;

/** Errors of a request that never reached the instance: safe to send to another one, mutations too. */
const NOT_SENT = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

const readyInstances = new Gauge({
  name: 'pdp_gateway_subgraph_instances_ready',
  help: 'Instances of a subgraph whose /readyz answered 200 at the last probe',
  labelNames: ['subgraph'],
  registers: [registry],
});

interface Instance {
  url: string;
  /** Passed over until then (a refused connection, or a failed probe). */
  downUntil: number;
  ready: boolean;
}

/**
 * A subgraph's instances. Requests go round-robin to the instances whose last probe was ready (or,
 * when none is, to all), skipping for a moment one that refused a connection; a request that could
 * not even connect is sent to the next instance. Probes run in the background and on `/readyz`.
 */
export class SubgraphPool {
  private readonly instances: Instance[];
  private next = 0;
  private timer: NodeJS.Timeout | null = null;
  /** The kept-alive connections to this subgraph's instances. */
  readonly agent = newAgent();

  constructor(
    readonly name: string,
    urls: readonly string[],
  ) {
    if (urls.length === 0) throw new Error(`${name}: no URL`);
    this.instances = urls.map((url) => ({ url, downUntil: 0, ready: true }));
  }

  get urls(): string[] {
    return this.instances.map((i) => i.url);
  }

  /** The order in which to try instances for one request. */
  order(now = Date.now()): Instance[] {
    const start = this.next;
    this.next = (this.next + 1) % this.instances.length;
    const rotated = [...this.instances.slice(start), ...this.instances.slice(0, start)];
    const preferred = rotated.filter((i) => i.ready && i.downUntil <= now);
    return [...preferred, ...rotated.filter((i) => !preferred.includes(i))];
  }

  markDown(instance: Instance): void {
    instance.downUntil = Date.now() + DOWN_FOR_MS;
  }

  /** Asks every instance's `/readyz` (each within the readiness deadline); true when one is ready. */
  async probe(timeoutMs = READINESS_TIMEOUT_MS - 100): Promise<boolean> {
    await Promise.all(
      this.instances.map(async (instance) => {
        try {
          const res = await fetch(new URL('/readyz', instance.url), { signal: AbortSignal.timeout(timeoutMs) });
          await res.body?.cancel();
          instance.ready = res.ok;
        } catch {
          instance.ready = false;
        }
      }),
    );
    const ready = this.instances.filter((i) => i.ready).length;
    readyInstances.set({ subgraph: this.name }, ready);
    return ready > 0;
  }

  startProbing(): void {
    const loop = () => {
      void this.probe().finally(() => {
        if (this.timer) this.timer = setTimeout(loop, PROBE_EVERY_MS);
      });
    };
    this.timer = setTimeout(loop, PROBE_EVERY_MS);
    this.timer.unref();
  }

  stopProbing(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /** Closes the connections once the calls in flight have ended. */
  async close(): Promise<void> {
    await this.agent.close();
  }
}

function notSent(err: unknown): boolean {
  // undici's request fails with the socket error's code; Node's fetch wraps it (`cause.code`).
  const cause = (err as { cause?: { code?: unknown } })?.cause;
  const code = cause?.code ?? (err as { code?: unknown })?.code;
  return typeof code === 'string' && NOT_SENT.has(code);
}

/**
 * Connections to the subgraphs: kept alive and reused (HTTP/1.1, one request at a time on each),
 * as many as the calls in flight need. undici's `request` rather than `fetch` (the same library that
 * is Node's `fetch`): fetch builds WHATWG Request, Headers, AbortSignal and a web stream for every
 * call, which was a fifth of the gateway's CPU per request; Apollo reads only the status, two
 * headers and the JSON body.
 */
const newAgent = () => new Agent({ keepAliveTimeout: 30_000, keepAliveMaxTimeout: 60_000 });

/** The part of a header list Apollo's data source reads (content type, cache control), case-insensitive. */
class ResponseHeaders {
  private readonly map = new Map<string, string>();
  constructor(raw: Dispatcher.ResponseData['headers']) {
    for (const [name, value] of Object.entries(raw)) if (value !== undefined) this.map.set(name.toLowerCase(), Array.isArray(value) ? value.join(', ') : value);
  }
  get(name: string): string | null {
    return this.map.get(name.toLowerCase()) ?? null;
  }
  has(name: string): boolean {
    return this.map.has(name.toLowerCase());
  }
  set(name: string, value: string): void {
    this.map.set(name.toLowerCase(), value);
  }
  append(name: string, value: string): void {
    const old = this.get(name);
    this.set(name, old === null ? value : `${old}, ${value}`);
  }
  delete(name: string): void {
    this.map.delete(name.toLowerCase());
  }
  entries() {
    return this.map.entries();
  }
  keys() {
    return this.map.keys();
  }
  values() {
    return this.map.values();
  }
  [Symbol.iterator]() {
    return this.map.entries();
  }
}

/** What Apollo's RemoteGraphQLDataSource reads of a response (`FetcherResponse`), over undici's. */
class SubgraphResponse {
  readonly ok: boolean;
  readonly statusText: string;
  readonly redirected = false;
  readonly headers: ResponseHeaders;
  bodyUsed = false;
  constructor(
    readonly url: string,
    readonly status: number,
    headers: Dispatcher.ResponseData['headers'],
    private readonly body: Dispatcher.ResponseData['body'],
  ) {
    this.ok = status >= 200 && status < 300;
    this.statusText = STATUS_CODES[status] ?? '';
    this.headers = new ResponseHeaders(headers);
  }
  private use(): Dispatcher.ResponseData['body'] {
    if (this.bodyUsed) throw new TypeError('body used already');
    this.bodyUsed = true;
    return this.body;
  }
  text(): Promise<string> {
    return this.use().text();
  }
  json(): Promise<unknown> {
    return this.use().json();
  }
  arrayBuffer(): Promise<ArrayBuffer> {
    return this.use().arrayBuffer();
  }
  clone(): never {
    throw new Error('a subgraph response cannot be cloned');
  }
}

async function post(agent: Agent, url: string, init: { method?: string; headers?: Record<string, string>; body?: string }): Promise<SubgraphResponse> {
  const res = await request(url, { method: (init.method ?? 'POST') as Dispatcher.HttpMethod, headers: init.headers, body: init.body, dispatcher: agent });
  return new SubgraphResponse(url, res.statusCode, res.headers, res.body);
}

/**
 * Passes the signed actor to every subgraph call (nothing else from the client is forwarded) and
 * spreads the calls over the subgraph's instances: its fetcher picks the instance, and sends a call
 * that could not even connect to the next one.
 */
export class BalancedDataSource extends RemoteGraphQLDataSource<GatewayContext> {
  constructor(private readonly pool: SubgraphPool) {
    super({
      url: pool.urls[0],
      fetcher: (async (_url: string, init: { method?: string; headers?: Record<string, string>; body?: string }) => {
        let last: unknown;
        for (const instance of pool.order()) {
          try {
            // While tracing, each call is a span and carries the trace to the subgraph (traceparent).
            if (tracingOn()) {
              const method = init.method ?? 'POST';
              return await traceHttpCall({ url: instance.url, name: pool.name, method }, init.headers ?? {}, (headers) =>
                post(pool.agent, instance.url, { ...init, headers }),
              );
            }
            return await post(pool.agent, instance.url, init);
          } catch (err) {
            last = err;
            if (!notSent(err)) throw err;
            pool.markDown(instance);
          }
        }
        throw last;
      }) as never,
    });
  }

  override willSendRequest({ request, context }: GraphQLDataSourceProcessOptions<GatewayContext>) {
    if (context.actorTokenFor) request.http?.headers.set(ACTOR_HEADER, context.actorTokenFor(this.pool.name));
  }
}
