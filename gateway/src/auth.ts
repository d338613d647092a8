import { ANONYMOUS, hmacKey, ROLES, UnauthenticatedError, type Actor, type Locale } from '@pdp/shared';
import { jwtVerify } from 'jose';
import { LRUCache } from 'lru-cache';
import { z } from 'zod';

/**
 * Actor ids the platform itself acts as (the public form, the retention sweep, the event checks…): a
 * client token named so would make a person's actions read as the platform's in the audit.
 */
const RESERVED_SUBJECT = /^(anonymous|public|unauthenticated|system:.*)$/i;
/**
 * A `sub` is an id as the audit will show it: no whitespace at either end and no control, format or
 * unassigned characters anywhere (`public `, `public\u200b` or `\u202Epublic` would read as the
 * platform's own actor), and not one of the reserved ids in any Unicode compatibility form (`ｐｕｂｌｉｃ`).
 */
function isCleanSubject(sub: string): boolean {
  return sub === sub.trim() && !/\p{C}/u.test(sub) && !RESERVED_SUBJECT.test(sub.normalize('NFKC'));
}
/** Roles a token may carry: PUBLIC is what a request without a token is, never a token's role. */
const TOKEN_ROLES = ROLES.filter((r) => r !== 'PUBLIC') as [Exclude<(typeof ROLES)[number], 'PUBLIC'>, ...Array<Exclude<(typeof ROLES)[number], 'PUBLIC'>>];

const claimsSchema = z.object({
  sub: z.string().min(1).max(200).refine(isCleanSubject, 'reserved or unclean actor id'),
  roles: z.array(z.enum(TOKEN_ROLES)).min(1),
  /** A partner's creditor: the `Creditor.id` (a UUID) that registerCreditor returned. */
  creditor_id: z.uuid().optional(),
  exp: z.number(),
  iat: z.number().optional(),
});

/** Clock skew allowed between the token's issuer and the gateway. */
const SKEW_SECONDS = 60;

export interface AuthOptions {
  secret: string;
  /** A token whose `exp` is further ahead than this is refused: a stolen token cannot live for years. */
  maxLifetimeSeconds: number;
  /** Verified tokens remembered (by their exact text) until they expire; 0 turns the cache off. */
  cacheSize?: number;
}

const BEARER = /^Bearer\s+(\S+)$/i;

/**
 * Authenticates a client: no Authorization header is the anonymous PUBLIC actor (it may submit a
 * form and read consent texts); a bearer JWT must verify (HS256 with AUTH_JWT_SECRET, `exp`
 * required and at most `maxLifetimeSeconds` ahead, `iat` if given not in the future) and carry
 * known roles other than PUBLIC (which is what no token is: a token with it could use the public
 * form as a person, rate-limited per IP) — a partner's with its creditor's id —, and a `sub` that is
 * not one of the platform's own actor ids; or the request is refused with UNAUTHENTICATED.
 *
 * A token that verified is remembered by its exact text (signature included) until its `exp`, in a
 * bounded LRU: a client sends the same token on every request, and verifying it again (WebCrypto
 * HMAC, claims parsed by zod) was a tenth of the gateway's CPU per request. Nothing a verification
 * decides can change before `exp` — the signature, the claims and the lifetime limit are properties
 * of the text — so the answer is the same; a token that failed is never remembered (every failure
 * is checked, counted and audited again).
 */
export class Authenticator {
  private readonly verified: LRUCache<string, Actor> | null;

  constructor(private readonly opts: AuthOptions) {
    const max = opts.cacheSize ?? 10_000;
    // ttl per entry (its exp); `ttlAutopurge` off: an expired entry is dropped when it is next looked at or evicted.
    this.verified = max > 0 ? new LRUCache<string, Actor>({ max, ttlResolution: 1000 }) : null;
  }

  async authenticate(header: string | undefined, locale: Locale): Promise<Actor> {
    if (!header) return ANONYMOUS;
    const token = BEARER.exec(header)?.[1];
    if (!token) throw new UnauthenticatedError(locale);
    const known = this.verified?.get(token);
    if (known) return known;
    try {
      const { payload } = await jwtVerify(token, await hmacKey(this.opts.secret), { algorithms: ['HS256'], requiredClaims: ['exp', 'sub'] });
      const claims = claimsSchema.parse(payload);
      const now = Date.now();
      if (claims.exp > Math.floor(now / 1000) + this.opts.maxLifetimeSeconds) throw new Error('token lifetime exceeds the limit');
      // Issued in the future: a clock that is wrong, or a token minted to outlive the lifetime limit.
      if (claims.iat !== undefined && claims.iat > Math.floor(now / 1000) + SKEW_SECONDS) throw new Error('token issued in the future');
      if (claims.roles.includes('PARTNER') && !claims.creditor_id) throw new Error('partner without creditor_id');
      const actor: Actor = Object.freeze({ id: claims.sub, roles: Object.freeze([...claims.roles]) as Actor['roles'], creditorId: claims.creditor_id ?? null });
      // Remembered until two seconds before exp (jose refuses at exp; lru-cache reads its clock at most
      // once a second): never past the token's own life.
      const ttl = claims.exp * 1000 - now - 2000;
      if (this.verified && ttl > 0) this.verified.set(token, actor, { ttl });
      return actor;
    } catch {
      throw new UnauthenticatedError(locale);
    }
  }
}

/** One verification without a cache (tests, one-off checks). */
export async function authenticate(header: string | undefined, opts: AuthOptions, locale: Locale): Promise<Actor> {
  return new Authenticator({ ...opts, cacheSize: 0 }).authenticate(header, locale);
}
