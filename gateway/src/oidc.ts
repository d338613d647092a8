/**
 * Access tokens from the OpenID provider at `OIDC_ISSUER`: its discovery document names the JWKS,
 * jose's remote JWKS set fetches and caches the keys, and `jwtVerify` checks signature, `iss`, `aud`,
 * `exp` and `nbf`. The provider's keys are asymmetric (RS256, ES256, EdDSA): a token signed with a
 * shared secret — or an HS256 token made with the provider's public key as the secret, or `none` —
 * never verifies, because only the configured asymmetric algorithms are accepted.
 *
 * Keys are fetched on three occasions only, so neither a flood of made-up `kid`s nor an outage of the
 * provider changes what the gateway can check:
 * - at start (after discovery);
 * - every `refreshSeconds` in the background (a key the provider removed stops verifying then);
 * - when a token names a `kid` the cached set lacks, at most once per `cooldownSeconds` whether that
 *   fetch succeeds or fails.
 * A failed fetch keeps the cached keys: tokens signed with them keep working while the provider is
 * down. (jose's own rule refetches on an unknown `kid` once the last *successful* fetch is older than
 * its cooldown — against a provider that is down, every made-up `kid` would be another request — and
 * treats a cache older than `cacheMaxAge` as unusable; both are turned off and replaced by the rules above.)
 */
import { createRemoteJWKSet, customFetch, errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import { z } from 'zod';
import type { Logger } from '@pdp/shared';

export interface OidcOptions {
  issuer: string;
  audience: string;
  /** Accepted signature algorithms: asymmetric only. */
  algorithms: readonly string[];
  /** Least time between two key fetches for an unknown `kid` (and after a failed fetch). */
  cooldownSeconds: number;
  /** Background refresh of the key set. */
  refreshSeconds: number;
  /** Clock skew allowed on `exp`, `nbf` and `iat`. */
  clockToleranceSeconds: number;
  logger: Logger;
  /** The fetch used for discovery and keys (tests count the provider's requests). */
  fetch?: typeof fetch;
}

export const ASYMMETRIC_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'] as const;

/** Why a token was refused; goes to the client as `extensions.reason` and to the audit. */
export type TokenProblem =
  | 'MALFORMED'
  | 'ALGORITHM'
  | 'UNKNOWN_KEY'
  | 'SIGNATURE'
  | 'ISSUER'
  | 'AUDIENCE'
  | 'EXPIRED'
  | 'NOT_YET_VALID'
  | 'CLAIMS'
  | 'LIFETIME'
  | 'SUBJECT';

export class TokenRefused extends Error {
  override name = 'TokenRefused';
  constructor(readonly problem: TokenProblem) {
    super(`token refused: ${problem}`);
  }
}

/** The provider could not be reached to learn its keys: nothing can be verified yet (503, retry). */
export class ProviderUnavailable extends Error {
  override name = 'ProviderUnavailable';
}

const discoverySchema = z.object({ issuer: z.string(), jwks_uri: z.url() });

type RemoteSet = ReturnType<typeof createRemoteJWKSet>;

export class OidcVerifier {
  private jwks: RemoteSet | null = null;
  private discovering: Promise<void> | null = null;
  private lastFetchAttempt = 0;
  private refreshTimer: NodeJS.Timeout | null = null;
  private keySetVersion = 0;
  private lastKeyIds = '';
  private stopped = false;

  constructor(private readonly opts: OidcOptions) {}

  /** Starts discovery in the background; `verify` waits for it (or fails fast when it failed). */
  start(): void {
    void this.ensureDiscovered().catch(() => undefined);
    this.refreshTimer = setInterval(() => void this.refresh(), this.opts.refreshSeconds * 1000);
    this.refreshTimer.unref();
  }

  stop(): void {
    this.stopped = true;
    if (this.refreshTimer) clearInterval(this.refreshTimer);
  }

  /** Grows by one whenever the provider's key set changed: verified-token caches start again then. */
  get keysVersion(): number {
    return this.keySetVersion;
  }

  /** Whether the provider's keys are known (readiness). */
  get ready(): boolean {
    return this.jwks !== null;
  }

  async verify(token: string): Promise<JWTPayload> {
    const jwks = await this.ensureDiscovered();
    const options = {
      issuer: this.opts.issuer,
      audience: this.opts.audience,
      algorithms: [...this.opts.algorithms],
      clockTolerance: this.opts.clockToleranceSeconds,
      requiredClaims: ['exp', 'sub'],
    };
    try {
      return (await jwtVerify(token, jwks, options)).payload;
    } catch (err) {
      if (!(err instanceof joseErrors.JWKSNoMatchingKey)) throw new TokenRefused(problemOf(err));
      // A `kid` the cached set lacks: the provider may have rotated its keys. Fetch again, at most
      // once per cooldown, and try once more.
      if (!(await this.refetchAllowed())) throw new TokenRefused('UNKNOWN_KEY');
      try {
        return (await jwtVerify(token, jwks, options)).payload;
      } catch (again) {
        throw new TokenRefused(again instanceof joseErrors.JWKSNoMatchingKey ? 'UNKNOWN_KEY' : problemOf(again));
      }
    }
  }

  private async refetchAllowed(): Promise<boolean> {
    if (Date.now() - this.lastFetchAttempt < this.opts.cooldownSeconds * 1000) return false;
    await this.refresh();
    return true;
  }

  /** Fetches the key set again; on failure the cached keys stay (the provider may be down). */
  private async refresh(): Promise<void> {
    if (!this.jwks || this.stopped) return;
    this.lastFetchAttempt = Date.now();
    try {
      await this.jwks.reload();
      this.noteKeys();
    } catch (err) {
      this.opts.logger.warn({ err: { name: (err as Error).name } }, 'identity provider keys not refreshed; the cached keys stay in use');
    }
  }

  private noteKeys(): void {
    const ids = (this.jwks?.jwks()?.keys ?? [])
      .map((k) => `${k.kid ?? ''}:${k.x ?? k.n?.slice(0, 16) ?? ''}`)
      .sort()
      .join(',');
    if (ids !== this.lastKeyIds) {
      this.lastKeyIds = ids;
      this.keySetVersion += 1;
    }
  }

  private ensureDiscovered(): Promise<RemoteSet> {
    if (this.jwks) return Promise.resolve(this.jwks);
    // One discovery at a time; a failed one may be tried again after the cooldown.
    if (!this.discovering && Date.now() - this.lastFetchAttempt >= this.opts.cooldownSeconds * 1000) {
      this.lastFetchAttempt = Date.now();
      this.discovering = this.discover().finally(() => (this.discovering = null));
    }
    const pending = this.discovering;
    if (!pending) return Promise.reject(new ProviderUnavailable('identity provider not reached yet'));
    return pending.then(() => this.jwks!);
  }

  private async discover(): Promise<void> {
    const fetchImpl = this.opts.fetch ?? fetch;
    const url = `${this.opts.issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
    try {
      const res = await fetchImpl(url, { signal: AbortSignal.timeout(5000), redirect: 'error', headers: { accept: 'application/json' } });
      if (res.status !== 200) throw new Error(`discovery answered ${res.status}`);
      const doc = discoverySchema.parse(await res.json());
      // The document must be the configured issuer's own (OpenID Connect Discovery 1.0, 4.3).
      if (doc.issuer !== this.opts.issuer) throw new Error('discovery names another issuer');
      const jwks = createRemoteJWKSet(new URL(doc.jwks_uri), {
        cooldownDuration: Number.POSITIVE_INFINITY,
        cacheMaxAge: Number.POSITIVE_INFINITY,
        timeoutDuration: 5000,
        ...(this.opts.fetch ? { [customFetch]: this.opts.fetch } : {}),
      });
      await jwks.reload();
      this.jwks = jwks;
      this.noteKeys();
      this.opts.logger.info({ keys: jwks.jwks()?.keys.length ?? 0 }, 'identity provider keys loaded');
    } catch (err) {
      this.opts.logger.warn(
        { err: { name: (err as Error).name, message: (err as Error).message.slice(0, 200) } },
        'identity provider discovery failed; retrying',
      );
      // Tried again by itself: otherwise only a signed-in request would, and readiness (which needs
      // the keys) would stay false on a gateway whose first try timed out (a busy machine at start).
      if (!this.stopped) setTimeout(() => void this.ensureDiscovered().catch(() => undefined), this.opts.cooldownSeconds * 1000 + 50).unref();
      throw new ProviderUnavailable('identity provider not reached');
    }
  }
}

function problemOf(err: unknown): TokenProblem {
  if (err instanceof joseErrors.JWTExpired) return 'EXPIRED';
  if (err instanceof joseErrors.JWTClaimValidationFailed) {
    if (err.claim === 'iss') return 'ISSUER';
    if (err.claim === 'aud') return 'AUDIENCE';
    if (err.claim === 'nbf') return 'NOT_YET_VALID';
    return 'CLAIMS';
  }
  if (err instanceof joseErrors.JOSEAlgNotAllowed || err instanceof joseErrors.JOSENotSupported) return 'ALGORITHM';
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) return 'SIGNATURE';
  if (err instanceof joseErrors.JWKSNoMatchingKey || err instanceof joseErrors.JWKSMultipleMatchingKeys) return 'UNKNOWN_KEY';
  return 'MALFORMED';
}
