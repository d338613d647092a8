import { randomUUID } from 'node:crypto';
import type { Locale, MessageKey, RequestMeta } from '@pdp/shared';
import type { Request } from 'express';
import { Kind, type DocumentNode, type OperationDefinitionNode } from 'graphql';
import type { Refusal } from './refusals';

/*
 * The HTTP side of a GraphQL request, before anything GraphQL is checked: what a request must look
 * like to be served, its meta, and which of the document's operations it runs.
 */

/** A preflighted GET (Apollo's CSRF rule): a header a browser's simple cross-site request cannot carry. */
const SIMPLE_TYPES = ['application/x-www-form-urlencoded', 'multipart/form-data', 'text/plain'];
function preflighted(req: Request): boolean {
  const type = req.headers['content-type']?.split(';')[0]?.trim().toLowerCase();
  return Boolean(req.headers['x-apollo-operation-name'] || req.headers['apollo-require-preflight'] || (type && !SIMPLE_TYPES.includes(type)));
}

type ShapeRefusal = Refusal & { status: number };

/**
 * A GraphQL-over-HTTP request this gateway serves: GET (preflighted, queries only) or POST with a
 * JSON object, holding the query text. What is not one is refused here, in the caller's language,
 * rather than with Apollo's English (its CSRF text, "Operation batching disabled", "GraphQL queries
 * must be strings"…); and a persisted-query hash without its text is refused outright, since a
 * request without text would pass no check of this gate (Apollo's automatic persisted queries are
 * off as well).
 */
export function requestShape(req: Request, params: Record<string, unknown> | undefined): { query: string } | { refusal: ShapeRefusal } {
  const refusal = (status: number, code: string, key: MessageKey, field?: string) => ({ refusal: { status, code, key, ...(field ? { field } : {}) } });
  if (req.method !== 'GET' && req.method !== 'POST') return refusal(405, 'METHOD_NOT_ALLOWED', 'http.method');
  const mediaType = req.headers['content-type']?.split(';')[0]?.trim().toLowerCase();
  if (req.method === 'POST' && mediaType !== 'application/json') return refusal(415, 'UNSUPPORTED_MEDIA_TYPE', 'http.contentType');
  if (req.method === 'GET' && !preflighted(req)) return refusal(400, 'BAD_REQUEST', 'http.csrf');
  if (Array.isArray(params)) return refusal(400, 'BAD_REQUEST', 'http.batching');
  if (!params || typeof params !== 'object') return refusal(400, 'BAD_REQUEST', 'graphql.queryMissing', 'query');
  let extensions = params.extensions;
  // In a GET's query string the extensions are JSON text; in a POST's body an object.
  if (req.method === 'GET' && typeof extensions === 'string') {
    try {
      extensions = JSON.parse(extensions);
    } catch {
      return refusal(400, 'BAD_REQUEST', 'http.malformed', 'extensions');
    }
  }
  if (extensions !== undefined && extensions !== null && (typeof extensions !== 'object' || Array.isArray(extensions)))
    return refusal(400, 'BAD_REQUEST', 'input.wrongType', 'extensions');
  if (extensions && 'persistedQuery' in extensions) return refusal(400, 'PERSISTED_QUERY_NOT_SUPPORTED', 'graphql.persistedQuery');
  if (params.query === undefined || params.query === null || params.query === '') return refusal(400, 'BAD_REQUEST', 'graphql.queryMissing', 'query');
  if (typeof params.query !== 'string') return refusal(400, 'BAD_REQUEST', 'input.wrongType', 'query');
  if (params.operationName !== undefined && params.operationName !== null && typeof params.operationName !== 'string')
    return refusal(400, 'BAD_REQUEST', 'input.wrongType', 'operationName');
  return { query: params.query };
}

/** A request's meta as the subgraphs and the audit get it: a new id, the caller's language, address and browser. */
export function metaOf(req: Request, locale: Locale): RequestMeta {
  return {
    requestId: randomUUID(),
    locale,
    ip: req.ip ?? null,
    userAgent: req.headers['user-agent']?.slice(0, 512) ?? null,
  };
}

export function pickOperation(document: DocumentNode, operationName: unknown): { node: OperationDefinitionNode } | { refusal: Refusal } {
  const operations = document.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  if (operationName !== undefined && operationName !== null && operationName !== '') {
    const found = typeof operationName === 'string' ? operations.find((o) => o.name?.value === operationName) : undefined;
    return found ? { node: found } : { refusal: { code: 'OPERATION_RESOLUTION_FAILURE', key: 'graphql.operationUnknown', field: 'operationName' } };
  }
  if (operations.length === 1) return { node: operations[0]! };
  return { refusal: { code: 'OPERATION_RESOLUTION_FAILURE', key: 'graphql.operationName', field: 'operationName' } };
}
