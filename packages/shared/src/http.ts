import express, { type ErrorRequestHandler, type RequestHandler, type Response } from 'express';
import { localeFromAcceptLanguage, t, type MessageKey } from './i18n';
import type { Logger } from './logger';
import type { ErrorCode } from './errors';

/** Largest request body the gateway and the subgraphs accept. */
export const MAX_BODY = '256kb';

/** The GraphQL-over-HTTP media type; a client that asks for it gets errors in it too. */
const GRAPHQL_RESPONSE = 'application/graphql-response+json';

/**
 * Answers with a GraphQL error document (never HTML, never a stack): the shape every client of the
 * platform already parses, with a stable `extensions.code` and a message in the caller's language.
 */
export function sendGraphQLErrors(
  res: Response,
  status: number,
  errors: Array<{ message: string; extensions: Record<string, unknown>; locations?: ReadonlyArray<{ line: number; column: number }> }>,
): void {
  const accept = res.req.headers.accept ?? '';
  res.status(status);
  res.type(accept.includes(GRAPHQL_RESPONSE) ? GRAPHQL_RESPONSE : 'application/json');
  res.send(JSON.stringify({ errors }));
}

export function sendError(res: Response, status: number, code: ErrorCode, key: MessageKey): void {
  const locale = localeFromAcceptLanguage(res.req.headers['accept-language']);
  sendGraphQLErrors(res, status, [{ message: t(key, locale), extensions: { code } }]);
}

/** JSON bodies up to MAX_BODY; anything else about the body is left to the error handler below. */
export function jsonBody(): RequestHandler {
  return express.json({ limit: MAX_BODY });
}

/**
 * The last middleware of every HTTP app. Express's default handler answers with an HTML page that
 * holds the stack trace, and logs the error — and a body-parser error carries the raw body (an IIN,
 * an e-mail…) and a message that quotes it. Here a malformed body is 400, an over-size one 413, an
 * unsupported charset or encoding 415, each a JSON GraphQL error; the log gets the kind only.
 */
export function httpErrorHandler(logger: Logger): ErrorRequestHandler {
  return (err: unknown, _req, res, next) => {
    if (res.headersSent) {
      next(err);
      return;
    }
    const type = (err as { type?: unknown })?.type;
    const status = Number((err as { status?: unknown; statusCode?: unknown })?.status ?? (err as { statusCode?: unknown })?.statusCode);
    if (type === 'entity.too.large' || status === 413) {
      logger.info({ kind: 'body.too_large' }, 'request refused');
      sendError(res, 413, 'PAYLOAD_TOO_LARGE', 'http.tooLarge');
      return;
    }
    if (type === 'charset.unsupported' || type === 'encoding.unsupported' || status === 415) {
      logger.info({ kind: 'body.unsupported' }, 'request refused');
      sendError(res, 415, 'UNSUPPORTED_MEDIA_TYPE', 'http.unsupported');
      return;
    }
    if (type === 'entity.parse.failed' || (Number.isInteger(status) && status >= 400 && status < 500)) {
      logger.info({ kind: typeof type === 'string' ? type : 'bad_request' }, 'request refused');
      sendError(res, 400, 'BAD_REQUEST', 'http.malformed');
      return;
    }
    // Not the caller's fault: the name only (its message may quote input).
    logger.error({ err: { name: err instanceof Error ? err.name : 'UnknownError' } }, 'request failed');
    sendError(res, 500, 'INTERNAL_SERVER_ERROR', 'internal');
  };
}
