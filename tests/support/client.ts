import { SignJWT } from 'jose';
import type { Role } from '@pdp/shared';

export interface GraphQLResponse<T = any> {
  status: number;
  data?: T;
  errors?: Array<{ message: string; path?: string[]; extensions?: Record<string, any> }>;
}

export interface CallOptions {
  token?: string;
  headers?: Record<string, string>;
}

export async function graphql<T = any>(url: string, query: string, variables: Record<string, unknown> = {}, opts: CallOptions = {}): Promise<GraphQLResponse<T>> {
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
      ...opts.headers,
    },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as Omit<GraphQLResponse<T>, 'status'>;
  return { status: res.status, ...body };
}

/** A client token as the contract describes: HS256 with AUTH_JWT_SECRET; `sub`, `roles`, `creditor_id`, `exp`. */
export async function tokenFor(secret: string, roles: Role[], opts: { sub?: string; creditorId?: string; expiresIn?: string } = {}): Promise<string> {
  return new SignJWT({ roles, ...(opts.creditorId ? { creditor_id: opts.creditorId } : {}) })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(opts.sub ?? `${roles[0]!.toLowerCase()}-1`)
    .setIssuedAt()
    .setExpirationTime(opts.expiresIn ?? '1h')
    .sign(new TextEncoder().encode(secret));
}
