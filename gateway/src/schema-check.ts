/**
 * Each running subgraph is checked against the supergraph the gateway serves: its own SDL (`_service`,
 * asked with the gateway's actor token) must compose, with the others' SDLs the supergraph was made
 * from, into that very supergraph. A subgraph deployed from another version is reported when the
 * gateway starts — a log line naming it, `pdp_gateway_subgraph_schema_mismatch{subgraph}` = 1 and the
 * readiness check `schema` — not discovered by a query that fails. A mismatched subgraph is asked
 * again every 30 s (a redeploy may set it right); an unreachable one as soon as its instances answer.
 */
import type { Logger } from '@pdp/shared';
import { registry } from '@pdp/shared';
import { Gauge } from 'prom-client';
import { composeSupergraph, PLACEHOLDER_URLS, SUBGRAPHS, type SubgraphName } from './composition';
import type { SubgraphPool } from './pool';

export type SchemaState = 'unchecked' | 'matches' | 'differs';

const mismatch = new Gauge({
  name: 'pdp_gateway_subgraph_schema_mismatch',
  help: "1 while a subgraph's schema does not compose into the supergraph the gateway serves",
  labelNames: ['subgraph'],
  registers: [registry],
});

export interface SchemaCheckOptions {
  pools: Record<SubgraphName, SubgraphPool>;
  supergraph: string;
  /** The SDL each subgraph had when the supergraph was composed. */
  referenceSdl: (name: SubgraphName) => string;
  /** The gateway's actor token for a subgraph (its own word, as for every call). */
  actorToken: (name: SubgraphName) => string;
  logger: Logger;
}

export class SchemaCheck {
  readonly state = new Map<SubgraphName, SchemaState>(SUBGRAPHS.map((n) => [n, 'unchecked']));
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(private readonly opts: SchemaCheckOptions) {}

  start(): void {
    const loop = async () => {
      await Promise.all(SUBGRAPHS.filter((n) => this.state.get(n) !== 'matches').map((n) => this.check(n)));
      if (this.stopped) return;
      const pending = SUBGRAPHS.some((n) => this.state.get(n) === 'unchecked');
      const differing = SUBGRAPHS.some((n) => this.state.get(n) === 'differs');
      if (pending || differing) this.timer = setTimeout(() => void loop(), pending ? 2000 : 30_000);
    };
    void loop();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }

  /** The subgraphs known to differ from the supergraph. */
  differing(): SubgraphName[] {
    return SUBGRAPHS.filter((n) => this.state.get(n) === 'differs');
  }

  private async check(name: SubgraphName): Promise<void> {
    const sdl = await this.liveSdl(name);
    if (sdl === null) return; // not reachable yet: asked again
    let composed: string | null;
    try {
      composed = composeSupergraph(PLACEHOLDER_URLS, (n) => (n === name ? sdl : this.opts.referenceSdl(n)));
    } catch {
      composed = null;
    }
    const matches = composed === this.opts.supergraph;
    const before = this.state.get(name);
    this.state.set(name, matches ? 'matches' : 'differs');
    mismatch.set({ subgraph: name }, matches ? 0 : 1);
    if (!matches && before !== 'differs') {
      this.opts.logger.error(
        { subgraph: name },
        "a subgraph's schema does not match the supergraph this gateway serves: deploy the gateway and the subgraph from one build",
      );
    } else if (matches && before === 'differs') {
      this.opts.logger.info({ subgraph: name }, "the subgraph's schema matches the supergraph again");
    }
  }

  private async liveSdl(name: SubgraphName): Promise<string | null> {
    for (const url of this.opts.pools[name].urls) {
      try {
        const res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-pdp-actor': this.opts.actorToken(name) },
          body: JSON.stringify({ query: '{ _service { sdl } }' }),
          signal: AbortSignal.timeout(3000),
        });
        const body = (await res.json()) as { data?: { _service?: { sdl?: string } } };
        if (typeof body.data?._service?.sdl === 'string') return body.data._service.sdl;
      } catch {
        // the next instance, or a later try
      }
    }
    return null;
  }
}
