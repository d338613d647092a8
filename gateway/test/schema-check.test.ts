import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLogger } from '@pdp/shared';
import { eventually } from '@pdp/shared/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { composeSupergraph, PLACEHOLDER_URLS, SUBGRAPHS, subgraphSdl, type SubgraphName } from '../src/composition';
import { SubgraphPool } from '../src/pool';
import { SchemaCheck } from '../src/schema-check';

/** Stands in for the four subgraphs' `_service` answers: each one's SDL, one of them changed. */
const servers: Server[] = [];
const checks: SchemaCheck[] = [];
afterEach(async () => {
  for (const c of checks.splice(0)) c.stop();
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

async function serve(sdl: string): Promise<string> {
  const server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ data: { _service: { sdl } } })));
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
}

async function run(sdlOf: (name: SubgraphName) => string): Promise<SchemaCheck> {
  const pools = Object.fromEntries(await Promise.all(SUBGRAPHS.map(async (n) => [n, new SubgraphPool(n, [await serve(sdlOf(n))])] as const))) as Record<
    SubgraphName,
    SubgraphPool
  >;
  const check = new SchemaCheck({
    pools,
    supergraph: composeSupergraph(PLACEHOLDER_URLS),
    referenceSdl: subgraphSdl,
    actorToken: () => 'token',
    logger: createLogger('test', 'silent'),
  });
  checks.push(check);
  check.start();
  await eventually(async () => SUBGRAPHS.every((n) => check.state.get(n) !== 'unchecked'), 10_000, 'every subgraph checked');
  return check;
}

describe("the gateway checks each subgraph's schema against the supergraph it serves", () => {
  it('subgraphs built from the same schema files match', async () => {
    const check = await run(subgraphSdl);
    expect(check.differing()).toEqual([]);
  });

  it('a subgraph deployed from another version is named at start', async () => {
    const changed = (n: SubgraphName) => (n === 'consents' ? subgraphSdl(n).replace('type Query {', 'type Query {\n  somethingNew: Int') : subgraphSdl(n));
    const check = await run(changed);
    expect(check.differing()).toEqual(['consents']);
  });
});
