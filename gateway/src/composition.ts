import { existsSync, readFileSync } from 'node:fs';
import { composeServices } from '@apollo/composition';
import { gql } from 'graphql-tag';

export const SUBGRAPHS = ['subjects', 'appeals', 'consents', 'audit'] as const;
export type SubgraphName = (typeof SUBGRAPHS)[number];

/**
 * A subgraph's SDL as the supergraph was composed from it: the copy the build put next to the
 * gateway's bundle (`gateway/dist/<name>.graphql`), or the service's file when running from source.
 */
export function subgraphSdl(name: SubgraphName): string {
  const built = new URL(`./${name}.graphql`, import.meta.url);
  return readFileSync(existsSync(built) ? built : new URL(`../../services/${name}/schema.graphql`, import.meta.url), 'utf8');
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

/** The URLs every supergraph is composed with: the gateway calls the instances it is configured with. */
export const PLACEHOLDER_URLS = Object.fromEntries(SUBGRAPHS.map((name) => [name, `http://${name}.invalid/graphql`])) as Record<SubgraphName, string>;

/**
 * The supergraph the gateway serves: the one `npm run build` composed and checked
 * (`gateway/dist/supergraph.graphql`, next to the gateway's bundle), or — running from source, as
 * the tests do — composed now from the SDL files.
 */
export function loadSupergraph(): { sdl: string; built: boolean } {
  const built = new URL('./supergraph.graphql', import.meta.url);
  if (existsSync(built)) return { sdl: readFileSync(built, 'utf8'), built: true };
  return { sdl: composeSupergraph(PLACEHOLDER_URLS), built: false };
}
