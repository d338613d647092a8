import { readFileSync } from 'node:fs';
import { composeServices } from '@apollo/composition';
import { gql } from 'graphql-tag';

export const SUBGRAPHS = ['subjects', 'appeals', 'consents', 'audit'] as const;
export type SubgraphName = (typeof SUBGRAPHS)[number];

export function subgraphSdl(name: SubgraphName): string {
  return readFileSync(new URL(`../../services/${name}/schema.graphql`, import.meta.url), 'utf8');
}

/**
 * Composes the supergraph statically from the subgraphs' SDL files when the gateway starts: a
 * composition error stops the gateway (and fails the composition test) instead of surfacing at
 * query time.
 */
export function composeSupergraph(urls: Record<SubgraphName, string>, sdl: (name: SubgraphName) => string = subgraphSdl): string {
  const result = composeServices(SUBGRAPHS.map((name) => ({ name, url: urls[name], typeDefs: gql(sdl(name)) })));
  if (result.errors) {
    throw new Error(`supergraph composition failed:\n${result.errors.map((e) => `  ${e.message}`).join('\n')}`);
  }
  return result.supergraphSdl;
}
