import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import type { Express, Request } from 'express';

export interface Dispatched {
  status: number;
  body: string;
}

/**
 * Sends a GraphQL request through the gateway's own HTTP stack, in process, as the person whose
 * form post or page view caused it: the same metrics, body limit, gate (parse, limits, the public
 * rate limit counted against the person's address, the refusals' audit) and Apollo as any client's
 * `POST /graphql`, with the person's address and browser as the consent's evidence. Node's own
 * request and response classes carry it (Express swaps their prototypes for its own, which extend
 * them); only the response's `write`/`end` are taken over, to keep the answer instead of a socket.
 */
export function dispatchGraphQL(app: Express, from: Request, body: unknown, locale: string): Promise<Dispatched> {
  return new Promise((resolve, reject) => {
    const socket = new Socket();
    // What Express derives the client's address from (with `trust proxy`, X-Forwarded-For below).
    Object.defineProperty(socket, 'remoteAddress', { value: from.socket.remoteAddress });
    const req = new IncomingMessage(socket);
    const payload = Buffer.from(JSON.stringify(body), 'utf8');
    req.method = 'POST';
    req.url = '/graphql';
    req.headers = {
      'content-type': 'application/json',
      'content-length': String(payload.length),
      accept: 'application/json',
      'accept-language': locale,
      ...(from.headers['user-agent'] ? { 'user-agent': from.headers['user-agent'] } : {}),
      ...(from.headers['x-forwarded-for'] ? { 'x-forwarded-for': from.headers['x-forwarded-for'] } : {}),
    };
    req.push(payload);
    req.push(null);

    const res = new ServerResponse(req);
    const chunks: Buffer[] = [];
    const keep = (chunk: unknown, encoding?: unknown) => {
      if (chunk === undefined || chunk === null || typeof chunk === 'function') return;
      chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk), typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8'));
    };
    res.write = ((chunk: unknown, encoding?: unknown) => {
      keep(chunk, encoding);
      return true;
    }) as typeof res.write;
    res.end = ((chunk?: unknown, encoding?: unknown) => {
      keep(chunk, encoding);
      resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString('utf8') });
      // The metrics middleware counts the request when it finishes.
      res.emit('finish');
      return res;
    }) as typeof res.end;
    const handle = app as unknown as (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => void;
    handle(req, res, (err) => (err ? reject(err) : resolve({ status: 404, body: '' })));
  });
}
