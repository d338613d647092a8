import { randomUUID } from 'node:crypto';
import { SignJWT, jwtVerify } from 'jose';
import { z } from 'zod';
import type { Locale } from '../i18n';

export const ROLES = ['PUBLIC', 'OPERATOR', 'DPO', 'CHAIRMAN', 'HR', 'CONTRACTS', 'AUDITOR', 'PARTNER', 'OPS'] as const;
export type Role = (typeof ROLES)[number];

/** Roles of the Chamber's own staff who may look a subject up. */
export const STAFF_ROLES: readonly Role[] = ['OPERATOR', 'DPO', 'CHAIRMAN', 'HR', 'CONTRACTS', 'AUDITOR'];

export interface Actor {
  id: string;
  roles: Role[];
  creditorId: string | null;
}

/** Facts about the request that services need (locale for messages; ip and agent as consent evidence). */
export interface RequestMeta {
  requestId: string;
  locale: Locale;
  ip: string | null;
  userAgent: string | null;
}

export const ANONYMOUS: Actor = Object.freeze({ id: 'anonymous', roles: ['PUBLIC'], creditorId: null }) as Actor;

export const ACTOR_HEADER = 'x-pdp-actor';
const ISSUER = 'pdp-gateway';
const AUDIENCE = 'pdp-subgraph';
/** Lifetime of the gateway's actor token, and the clock skew between hosts we tolerate. */
export const ACTOR_TOKEN_TTL_SECONDS = 60;
export const CLOCK_SKEW_SECONDS = 5;

const actorClaims = z.object({
  sub: z.string().min(1),
  roles: z.array(z.enum(ROLES)),
  creditor_id: z.string().nullable(),
  locale: z.enum(['KK', 'RU']),
  ip: z.string().nullable(),
  ua: z.string().nullable(),
  rid: z.string(),
});

/**
 * The HMAC key for a secret, imported into WebCrypto once. jose imports a raw `Uint8Array` key again
 * on every sign and verify (`subtle.importKey`, a transferable CryptoKey object each time): measured
 * on the project machine, 146 µs → 40 µs per sign and 83 µs → 45 µs per verify with the key reused.
 * A process holds one or two secrets; the map is bounded anyway.
 */
const hmacKeys = new Map<string, Promise<CryptoKey>>();
export function hmacKey(secret: string): Promise<CryptoKey> {
  let key = hmacKeys.get(secret);
  if (!key) {
    if (hmacKeys.size >= 16) hmacKeys.clear();
    key = crypto.subtle.importKey('raw', new TextEncoder().encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']);
    hmacKeys.set(secret, key);
  }
  return key;
}

/**
 * The gateway's proof to a subgraph that a request came through it: a short-lived HS256 token over
 * the actor and request facts, with its own secret (not the clients' one). One per request: its
 * request id is the correlation id of everything the subgraphs record for that request.
 */
export async function signActorToken(secret: string, actor: Actor, meta: RequestMeta): Promise<string> {
  return new SignJWT({
    roles: actor.roles,
    creditor_id: actor.creditorId,
    locale: meta.locale,
    ip: meta.ip,
    ua: meta.userAgent,
    rid: meta.requestId,
  })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(actor.id)
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(`${ACTOR_TOKEN_TTL_SECONDS}s`)
    .setJti(randomUUID())
    .sign(await hmacKey(secret));
}

/**
 * Verifies the gateway's token: signature, issuer, audience, and a lifetime that cannot be stretched
 * — `exp` and `iat` are required, `exp` at most 60 s after `iat`, `iat` not in the future, and `exp`
 * at most 60 s from now (each with a few seconds of clock skew). A token without `exp`, or one
 * minted for ten years, is refused.
 */
export async function verifyActorToken(secret: string, token: string): Promise<{ actor: Actor; meta: RequestMeta }> {
  const { payload } = await jwtVerify(token, await hmacKey(secret), {
    issuer: ISSUER,
    audience: AUDIENCE,
    algorithms: ['HS256'],
    requiredClaims: ['exp', 'iat', 'sub'],
    clockTolerance: CLOCK_SKEW_SECONDS,
    maxTokenAge: ACTOR_TOKEN_TTL_SECONDS + CLOCK_SKEW_SECONDS,
  });
  const now = Math.floor(Date.now() / 1000);
  const { exp, iat } = payload as { exp: number; iat: number };
  if (exp - iat > ACTOR_TOKEN_TTL_SECONDS || exp > now + ACTOR_TOKEN_TTL_SECONDS + CLOCK_SKEW_SECONDS) {
    throw new Error('actor token lifetime exceeds the limit');
  }
  const claims = actorClaims.parse(payload);
  return {
    actor: { id: claims.sub, roles: claims.roles, creditorId: claims.creditor_id },
    meta: { requestId: claims.rid, locale: claims.locale, ip: claims.ip, userAgent: claims.ua },
  };
}

export function hasAnyRole(actor: Actor, roles: readonly Role[]): boolean {
  return actor.roles.some((r) => roles.includes(r));
}
