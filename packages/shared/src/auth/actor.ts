import { createPublicKey, randomUUID, sign, verify, type KeyObject } from 'node:crypto';
import { z } from 'zod';
import { importSigningKey, importVerifyKey } from '../events/signing';
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
 * The gateway's word to a subgraph: a short-lived JWS (EdDSA, Ed25519) over the actor and the
 * request's facts, signed with the gateway's own private key (`ACTOR_SIGNING_KEY`) and verified by
 * each subgraph with the gateway's public key (`ACTOR_VERIFY_KEYS`). Its audience names the one
 * subgraph it is for, so a subgraph that received one cannot replay it to another (the ops view's
 * forwarding to the services that hold parked events is the one exception, and says so), and no
 * subgraph can mint one: a compromised subgraph holds no key that makes another subgraph act.
 *
 * A compact JWS (RFC 7515/7519) made with node:crypto (OpenSSL's Ed25519: about 25 µs to sign and
 * 60 µs to verify): jose goes through WebCrypto jobs, which cost several times that on the main
 * thread (see docs/architecture.md, "Libraries"). jose verifies these tokens in the tests.
 */
const ACTOR_TOKEN_HEADER = Buffer.from(JSON.stringify({ alg: 'EdDSA', typ: 'pdp-actor+jwt' })).toString('base64url');
const ED25519_SIGNATURE_BYTES = 64;

/** The gateway's signing key, imported once. */
export class ActorTokenSigner {
  private constructor(private readonly key: KeyObject) {}

  static fromKey(privateKey: string): ActorTokenSigner {
    return new ActorTokenSigner(importSigningKey(privateKey));
  }

  /** The public half, for the subgraphs' ACTOR_VERIFY_KEYS. */
  get publicJwk(): string {
    return JSON.stringify(createPublicKey(this.key).export({ format: 'jwk' }));
  }

  /** A token for one subgraph (`audience`): one per subgraph a request calls. */
  sign(actor: Actor, meta: RequestMeta, audience: string): string {
    const iat = Math.floor(Date.now() / 1000);
    const payload = {
      roles: actor.roles,
      creditor_id: actor.creditorId,
      locale: meta.locale,
      ip: meta.ip,
      ua: meta.userAgent,
      rid: meta.requestId,
      sub: actor.id,
      iss: ISSUER,
      aud: audience,
      iat,
      exp: iat + ACTOR_TOKEN_TTL_SECONDS,
      jti: randomUUID(),
    };
    const input = `${ACTOR_TOKEN_HEADER}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
    return `${input}.${sign(null, Buffer.from(input), this.key).toString('base64url')}`;
  }
}

function refuse(why: string): never {
  throw new Error(`actor token refused: ${why}`);
}

/**
 * Parses ACTOR_VERIFY_KEYS: the gateway's Ed25519 public key (JWK or SPKI PEM), or a JSON list of up
 * to four during a rotation (the new key first). Problems never quote key material.
 */
export function parseActorVerifyKeys(text: string): { keys: KeyObject[]; problems: string[] } {
  let list: unknown[];
  try {
    const parsed: unknown = text.trimStart().startsWith('-----BEGIN') ? text : JSON.parse(text);
    list = Array.isArray(parsed) ? parsed : [parsed];
  } catch {
    return { keys: [], problems: ["must be the gateway's Ed25519 public key (JWK or SPKI PEM) or a JSON list of them"] };
  }
  if (list.length === 0 || list.length > 4) return { keys: [], problems: ['must list 1 to 4 public keys'] };
  try {
    return { keys: list.map(importVerifyKey), problems: [] };
  } catch (err) {
    return { keys: [], problems: [(err as Error).message] };
  }
}

/** A subgraph's check of the gateway's tokens, with the gateway's public key(s) imported once. */
export class ActorTokenVerifier {
  private constructor(private readonly keys: KeyObject[]) {}

  static fromKeys(text: string): ActorTokenVerifier {
    const { keys, problems } = parseActorVerifyKeys(text);
    if (problems.length > 0) throw new Error(`ACTOR_VERIFY_KEYS: ${problems.join('; ')}`);
    return new ActorTokenVerifier(keys);
  }

  /**
   * Verifies a token for `audience`: signature, issuer, audience, and a lifetime that cannot be
   * stretched — `exp` and `iat` required, `exp` at most 60 s after `iat`, `iat` not in the future,
   * `exp` at most 60 s from now (each with a few seconds of clock skew). The header must be exactly
   * EdDSA (no `crit`, no unencoded payload, no other algorithm: an HS256 token made with the public
   * key as its secret is refused before any key is used).
   */
  verify(token: string, audience: string): { actor: Actor; meta: RequestMeta } {
    if (token.length > 8192) refuse('too long');
    const parts = token.split('.');
    if (parts.length !== 3) refuse('not a compact JWS');
    const [header, body, signature] = parts as [string, string, string];
    if (header !== ACTOR_TOKEN_HEADER) {
      const parsed = parseJsonObject(header);
      if (parsed.alg !== 'EdDSA' || 'crit' in parsed || 'b64' in parsed) refuse('header');
    }
    const bytes = Buffer.from(signature, 'base64url');
    if (bytes.length !== ED25519_SIGNATURE_BYTES || bytes.toString('base64url') !== signature) refuse('signature');
    const input = Buffer.from(`${header}.${body}`);
    if (!this.keys.some((key) => verify(null, input, key, bytes))) refuse('signature');
    const payload = parseJsonObject(body);
    const now = Math.floor(Date.now() / 1000);
    const { iss, aud, sub, exp, iat, nbf } = payload as Record<string, unknown>;
    if (iss !== ISSUER) refuse('issuer');
    if (aud !== audience) refuse('audience');
    if (typeof sub !== 'string') refuse('subject');
    if (typeof exp !== 'number' || !Number.isFinite(exp) || typeof iat !== 'number' || !Number.isFinite(iat)) refuse('exp and iat');
    if (exp <= now - CLOCK_SKEW_SECONDS) refuse('expired');
    if (nbf !== undefined && (typeof nbf !== 'number' || nbf > now + CLOCK_SKEW_SECONDS)) refuse('not yet valid');
    if (iat > now + CLOCK_SKEW_SECONDS || now - iat > ACTOR_TOKEN_TTL_SECONDS + 2 * CLOCK_SKEW_SECONDS) refuse('issued-at');
    if (exp - iat > ACTOR_TOKEN_TTL_SECONDS || exp > now + ACTOR_TOKEN_TTL_SECONDS + CLOCK_SKEW_SECONDS) {
      throw new Error('actor token lifetime exceeds the limit');
    }
    const claims = actorClaims.parse(payload);
    return {
      actor: { id: claims.sub, roles: claims.roles, creditorId: claims.creditor_id },
      meta: { requestId: claims.rid, locale: claims.locale, ip: claims.ip, userAgent: claims.ua },
    };
  }
}

function parseJsonObject(part: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  } catch {
    refuse('malformed');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) refuse('malformed');
  return value as Record<string, unknown>;
}

export function hasAnyRole(actor: Actor, roles: readonly Role[]): boolean {
  return actor.roles.some((r) => roles.includes(r));
}
