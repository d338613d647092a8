/**
 * Who is calling: the OpenID provider's access token names an account (`sub`); the access registry
 * (access.ts) says what that account may do. Nothing in the token decides a role: a `roles` claim,
 * a `creditor_id`, anything else the provider put there, means nothing here.
 */
import { ANONYMOUS, STAFF_ID, isAcceptableAccountName, type Actor, type DenialReason, type Locale, type MessageKey } from '@pdp/shared';
import { LRUCache } from 'lru-cache';
import type { AccessView } from './access';
import { type OidcVerifier, TokenRefused, type TokenProblem } from './oidc';

export interface AuthOptions {
  oidc: OidcVerifier;
  access: AccessView;
  /** A token whose `exp` is further ahead than this is refused: a stolen token cannot live for days. */
  maxLifetimeSeconds: number;
  /** Verified tokens remembered (by their exact text) until they expire; 0 turns the cache off. */
  cacheSize?: number;
}

/** The caller, and — for a signed-in account the registry grants nothing — why. */
export interface Caller {
  actor: Actor;
  /** Set when the account may do only what anyone may (and `me`): NO_GRANT or CREDITOR_SUSPENDED. */
  denial: Extract<DenialReason, 'NO_GRANT' | 'CREDITOR_SUSPENDED'> | null;
}

/** A refusal of the caller as such: 401 (a bad token) or 503 (nothing can be checked right now). */
export class CallerRefused extends Error {
  override name = 'CallerRefused';
  constructor(
    readonly status: 401 | 503,
    readonly code: 'UNAUTHENTICATED' | 'UNAVAILABLE',
    readonly key: MessageKey,
    readonly reason: TokenProblem | 'PROVIDER_UNAVAILABLE' | 'ACCESS_REGISTRY_STALE' | 'NO_BEARER',
  ) {
    super(`caller refused: ${reason}`);
  }
}

const BEARER = /^Bearer\s+(\S+)$/i;
const MESSAGE: Partial<Record<TokenProblem, MessageKey>> = { EXPIRED: 'auth.expired', NOT_YET_VALID: 'auth.notYetValid' };

export class Authenticator {
  /** Verified tokens' accounts, until their `exp` (and until the provider's keys change). */
  private readonly verified: LRUCache<string, string> | null;
  private cachedKeysVersion = 0;

  constructor(private readonly opts: AuthOptions) {
    const max = opts.cacheSize ?? 10_000;
    this.verified = max > 0 ? new LRUCache<string, string>({ max, ttlResolution: 1000 }) : null;
  }

  /**
   * No Authorization header: the anonymous PUBLIC actor. A bearer token: the account it names, with
   * the roles the registry gives it now (looked up on every request: a revocation is not cached).
   */
  async caller(header: string | undefined, _locale: Locale): Promise<Caller> {
    if (!header) return { actor: ANONYMOUS, denial: null };
    const token = BEARER.exec(header)?.[1];
    if (!token) throw new CallerRefused(401, 'UNAUTHENTICATED', 'auth.unauthenticated', 'NO_BEARER');
    const account = await this.account(token);
    const decision = this.opts.access.resolve(account);
    switch (decision.state) {
      case 'granted':
        return { actor: Object.freeze({ id: account, roles: decision.roles, creditorId: decision.creditorId }), denial: null };
      case 'none':
        return { actor: ungranted(account), denial: 'NO_GRANT' };
      case 'suspended':
        return { actor: ungranted(account), denial: 'CREDITOR_SUSPENDED' };
      case 'stale':
        throw new CallerRefused(503, 'UNAVAILABLE', 'access.registryUnavailable', 'ACCESS_REGISTRY_STALE');
    }
  }

  /** The token's account, verified (or remembered from an earlier verification of the same text). */
  private async account(token: string): Promise<string> {
    if (this.verified && this.cachedKeysVersion !== this.opts.oidc.keysVersion) {
      // The provider's keys changed (a key may have been withdrawn): verify everything again.
      this.verified.clear();
      this.cachedKeysVersion = this.opts.oidc.keysVersion;
    }
    const known = this.verified?.get(token);
    if (known) return known;
    let payload: Awaited<ReturnType<OidcVerifier['verify']>>;
    try {
      payload = await this.opts.oidc.verify(token);
    } catch (err) {
      if (err instanceof TokenRefused) throw new CallerRefused(401, 'UNAUTHENTICATED', MESSAGE[err.problem] ?? 'auth.unauthenticated', err.problem);
      throw new CallerRefused(503, 'UNAVAILABLE', 'auth.providerUnavailable', 'PROVIDER_UNAVAILABLE');
    }
    const now = Math.floor(Date.now() / 1000);
    const exp = payload.exp!;
    if (exp > now + this.opts.maxLifetimeSeconds) throw refusedFor('LIFETIME');
    const sub = payload.sub!;
    // An account as the audit will show it (account-names.ts): never one of the platform's own actors.
    if (sub.length > 200 || !STAFF_ID.test(sub) || !isAcceptableAccountName(sub)) throw refusedFor('SUBJECT');
    // Remembered until two seconds before exp (jose refuses at exp): never past the token's own life.
    const ttl = exp * 1000 - Date.now() - 2000;
    if (this.verified && ttl > 0) this.verified.set(token, sub, { ttl });
    return sub;
  }
}

function refusedFor(problem: TokenProblem): CallerRefused {
  return new CallerRefused(401, 'UNAUTHENTICATED', 'auth.unauthenticated', problem);
}

/** A signed-in account with nothing granted: what anyone may do, under its own name (guard.ts, `isUngranted`). */
function ungranted(account: string): Actor {
  return Object.freeze({ id: account, roles: ['PUBLIC'], creditorId: null }) as Actor;
}
