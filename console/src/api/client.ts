import { Client, CombinedError, fetchExchange, type AnyVariables, type TypedDocumentNode } from '@urql/core';
import { currentSession } from '../auth';
import { lang } from '../i18n';

/**
 * urql, the console's GraphQL client: small (a few kB compressed), typed documents, no normalized
 * cache. Every operation goes to the gateway's /graphql as a POST (never GET: no variable — an IIN
 * above all — may travel in a URL), with the person's own token and the page's language, and with no
 * cache: each view asks again, so each read is the API's to record and nothing lingers in memory.
 */
export const client = new Client({
  url: '/graphql',
  exchanges: [fetchExchange],
  preferGetMethod: false,
  requestPolicy: 'network-only',
  fetchOptions: () => {
    const session = currentSession();
    return {
      headers: {
        'accept-language': lang(),
        ...(session ? { authorization: `Bearer ${session.accessToken}` } : {}),
      },
      credentials: 'omit',
    };
  },
});

/** A refusal as the API gave it: its code, the field it names and its message (in the page's language). */
export interface ApiError {
  code: string;
  field: string | null;
  message: string;
}

export function apiErrors(error: CombinedError | undefined): ApiError[] {
  if (!error) return [];
  if (error.graphQLErrors.length === 0) return [{ code: 'NETWORK', field: null, message: error.networkError ? error.networkError.message : error.message }];
  return error.graphQLErrors.map((e) => ({
    code: typeof e.extensions?.code === 'string' ? e.extensions.code : 'ERROR',
    field: typeof e.extensions?.field === 'string' ? e.extensions.field : null,
    message: e.message,
  }));
}

export type Outcome<T> = { ok: true; data: T } | { ok: false; errors: ApiError[] };

/** Runs a mutation (or a one-off query) and returns its data or the API's refusals. */
export async function run<T, V extends AnyVariables>(
  document: TypedDocumentNode<T, V>,
  variables: V,
  kind: 'query' | 'mutation' = 'mutation',
): Promise<Outcome<T>> {
  const result = kind === 'mutation' ? await client.mutation(document, variables).toPromise() : await client.query(document, variables).toPromise();
  if (result.error || !result.data) return { ok: false, errors: apiErrors(result.error) };
  return { ok: true, data: result.data };
}
