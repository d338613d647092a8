import { ANONYMOUS, ROLES, UnauthenticatedError, type Actor, type Locale } from '@pdp/shared';
import { jwtVerify } from 'jose';
import { z } from 'zod';

const claimsSchema = z.object({
  sub: z.string().min(1).max(200),
  roles: z.array(z.enum(ROLES)).min(1),
  creditor_id: z.string().min(1).max(200).optional(),
  exp: z.number(),
});

export interface AuthOptions {
  secret: string;
  /** A token whose `exp` is further ahead than this is refused: a stolen token cannot live for years. */
  maxLifetimeSeconds: number;
}

/**
 * Authenticates a client: no Authorization header is the anonymous PUBLIC actor (it may submit a
 * form and read consent texts); a bearer JWT must verify (HS256 with AUTH_JWT_SECRET, `exp`
 * required and at most `maxLifetimeSeconds` ahead) and carry known roles, or the request is refused
 * with UNAUTHENTICATED.
 */
export async function authenticate(header: string | undefined, opts: AuthOptions, locale: Locale): Promise<Actor> {
  if (!header) return ANONYMOUS;
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  if (!match?.[1]) throw new UnauthenticatedError(locale);
  try {
    const { payload } = await jwtVerify(match[1], new TextEncoder().encode(opts.secret), { algorithms: ['HS256'], requiredClaims: ['exp', 'sub'] });
    const claims = claimsSchema.parse(payload);
    if (claims.exp > Math.floor(Date.now() / 1000) + opts.maxLifetimeSeconds) throw new Error('token lifetime exceeds the limit');
    if (claims.roles.includes('PARTNER') && !claims.creditor_id) throw new Error('partner without creditor_id');
    return { id: claims.sub, roles: claims.roles, creditorId: claims.creditor_id ?? null };
  } catch {
    throw new UnauthenticatedError(locale);
  }
}
