import { RemoteGraphQLDataSource, type GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { ACTOR_HEADER, READINESS_TIMEOUT_MS, registry } from '@pdp/shared';
import { Gauge } from 'prom-client';
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

  constructor(readonly name: string, urls: readonly string[]) {
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
}

function notSent(err: unknown): boolean {
  // Node's fetch wraps the socket error: `TypeError: fetch failed` with `cause.code`.
  const cause = (err as { cause?: { code?: unknown } })?.cause;
  const code = cause?.code ?? (err as { code?: unknown })?.code;
  return typeof code === 'string' && NOT_SENT.has(code);
}

/**
 * Passes the signed actor to every subgraph call (nothing else from the client is forwarded) and
 * spreads the calls over the subgraph's instances: its fetcher picks the instance, and sends a call
 * that could not even connect to the next one.
 */
export class BalancedDataSource extends RemoteGraphQLDataSource<GatewayContext> {
  constructor(pool: SubgraphPool) {
    super({
      url: pool.urls[0],
      fetcher: (async (_url: string, init: RequestInit) => {
        let last: unknown;
        for (const instance of pool.order()) {
          try {
            return await fetch(instance.url, init);
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
    if (context.actorToken) request.http?.headers.set(ACTOR_HEADER, context.actorToken);
  }
}
