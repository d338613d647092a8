import { commonEnv, ConfigError, importSigningKey, parseEnv } from '@pdp/shared';
import { z } from 'zod';
import { DEFAULT_LIMITS, type RequestLimits } from './request-limits';
import { ASYMMETRIC_ALGORITHMS } from './oidc';

export interface GatewayConfig {
  port: number;
  host: string;
  /** The OpenID provider whose access tokens are accepted, and the audience they must be for. */
  oidc: {
    issuer: string;
    audience: string;
    algorithms: readonly string[];
    cooldownSeconds: number;
    refreshSeconds: number;
    clockToleranceSeconds: number;
  };
  /** The gateway's Ed25519 private key: it signs the actor tokens the subgraphs accept. */
  actorSigningKey: string;
  /** Every service's public event keys: the access bucket's entries must be appeals'. */
  eventVerifyKeys: string;
  /** A gateway that has not heard that its access view is current for this long refuses signed-in requests. */
  accessMaxStalenessSeconds: number;
  /** Each subgraph's URL, or its instances' URLs (a list, or comma-separated): the gateway balances between them. */
  subgraphs: Record<'subjects' | 'appeals' | 'consents' | 'audit', string | readonly string[]>;
  /** Deepest query accepted (fields, fragments followed). */
  maxQueryDepth: number;
  /** Root fields per minute per client IP without a token (the public forms); 0 turns the limit off. */
  publicRatePerMinute: number;
  trustProxy: boolean;
  logLevel: string;
  /** The other limits of one request; GraphQL Armor's defaults or stricter when omitted. */
  limits?: Partial<RequestLimits>;
  /** Client tokens whose `exp` lies further ahead are refused (seconds; default 24 h). */
  maxTokenLifetimeSeconds?: number;
  /** Where every gateway counts the rate limits (a PostgreSQL database); null: this instance's memory. */
  rateLimitDatabaseUrl?: string | null;
  /** Production: no introspection, no field suggestions, `/metrics` only on `metricsPort`. */
  production?: boolean;
  metricsPort?: number | null;
  /**
   * Where refusals go for the audit: NATS, the events prefix and the gateway's own event signing
   * key. Required from the environment; null only where no audit runs (a gateway test of its own).
   */
  audit: { natsUrl: string; eventsPrefix: string; signingKey: string } | null;
}

const limit = (fallback: number, min = 1) => z.coerce.number().int().min(min).default(fallback);

/** One or more URLs, comma-separated: a subgraph's instances. */
const urlList = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((s) =>
      s
        .split(',')
        .map((u) => u.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.url()).min(1).max(32));

const gatewayEnv = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(4000),
  HOST: z.string().default('127.0.0.1'),
  /** The OpenID provider (its discovery document is at <issuer>/.well-known/openid-configuration). */
  OIDC_ISSUER: z.url({ error: "required: the OpenID provider's issuer URL (npm start runs a development one)" }),
  /** The `aud` the provider puts in access tokens for this API. */
  OIDC_AUDIENCE: z.string().min(1).default('pdp-api'),
  /** Accepted signature algorithms, comma-separated: asymmetric ones only. */
  OIDC_ALGORITHMS: z
    .string()
    .default('RS256,ES256,EdDSA')
    .transform((s) =>
      s
        .split(',')
        .map((a) => a.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.enum(ASYMMETRIC_ALGORITHMS, { error: `each one of ${ASYMMETRIC_ALGORITHMS.join(', ')} (no shared-secret algorithm)` })).min(1)),
  OIDC_JWKS_COOLDOWN_SECONDS: limit(5, 1),
  OIDC_JWKS_REFRESH_SECONDS: limit(300, 10),
  OIDC_CLOCK_TOLERANCE_SECONDS: limit(30, 0),
  AUTH_MAX_TOKEN_LIFETIME_SECONDS: limit(24 * 3600, 60),
  ACTOR_SIGNING_KEY: z.string({ error: "required: the gateway's Ed25519 private key (JWK or PKCS#8 PEM)" }).superRefine((value, ctx) => {
    try {
      importSigningKey(value);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
    }
  }),
  ACCESS_MAX_STALENESS_SECONDS: limit(5, 2),
  /** A PostgreSQL database where every gateway instance counts the rate limits (one table). */
  RATE_LIMIT_DATABASE_URL: z.url().optional(),
  /** One URL per instance, comma-separated. */
  SUBJECTS_URL: urlList('http://127.0.0.1:4001/graphql'),
  APPEALS_URL: urlList('http://127.0.0.1:4002/graphql'),
  CONSENTS_URL: urlList('http://127.0.0.1:4003/graphql'),
  AUDIT_URL: urlList('http://127.0.0.1:4004/graphql'),
  MAX_QUERY_DEPTH: z.coerce.number().int().min(2).max(50).default(DEFAULT_LIMITS.maxDepth),
  MAX_ALIASES: limit(DEFAULT_LIMITS.maxAliases, 0),
  MAX_TOKENS: limit(DEFAULT_LIMITS.maxTokens, 50),
  MAX_DIRECTIVES: limit(DEFAULT_LIMITS.maxDirectives, 0),
  MAX_COST: limit(DEFAULT_LIMITS.maxCost, 10),
  PUBLIC_RATE_LIMIT_PER_MINUTE: limit(DEFAULT_LIMITS.publicRatePerMinute, 0),
  ACTOR_RATE_LIMIT_PER_MINUTE: limit(DEFAULT_LIMITS.actorRatePerMinute, 0),
  STATUS_LOOKUPS_PER_MINUTE: limit(DEFAULT_LIMITS.statusLookupsPerMinute, 0),
  /** Behind a reverse proxy, take the client IP (consent evidence) from X-Forwarded-For. */
  TRUST_PROXY: z.stringbool().default(false),
});

export function gatewayConfigFromEnv(source: NodeJS.ProcessEnv = process.env): GatewayConfig {
  const env = parseEnv(
    { runtime: commonEnv.runtime, logging: commonEnv.logging, events: commonEnv.events, signing: commonEnv.signing, gateway: gatewayEnv },
    source,
  );
  const g = env.gateway;
  // Keys fetched over plain http could be anyone's: a production gateway trusts an https issuer only.
  if (env.runtime.NODE_ENV === 'production' && new URL(g.OIDC_ISSUER).protocol !== 'https:') {
    throw new ConfigError(['OIDC_ISSUER: must be an https URL in production']);
  }
  return {
    port: g.PORT,
    host: g.HOST,
    oidc: {
      issuer: g.OIDC_ISSUER,
      audience: g.OIDC_AUDIENCE,
      algorithms: g.OIDC_ALGORITHMS,
      cooldownSeconds: g.OIDC_JWKS_COOLDOWN_SECONDS,
      refreshSeconds: g.OIDC_JWKS_REFRESH_SECONDS,
      clockToleranceSeconds: g.OIDC_CLOCK_TOLERANCE_SECONDS,
    },
    actorSigningKey: g.ACTOR_SIGNING_KEY,
    eventVerifyKeys: env.signing.EVENT_VERIFY_KEYS,
    accessMaxStalenessSeconds: g.ACCESS_MAX_STALENESS_SECONDS,
    rateLimitDatabaseUrl: g.RATE_LIMIT_DATABASE_URL ?? null,
    subgraphs: { subjects: g.SUBJECTS_URL, appeals: g.APPEALS_URL, consents: g.CONSENTS_URL, audit: g.AUDIT_URL },
    maxQueryDepth: g.MAX_QUERY_DEPTH,
    publicRatePerMinute: g.PUBLIC_RATE_LIMIT_PER_MINUTE,
    trustProxy: g.TRUST_PROXY,
    logLevel: env.logging.LOG_LEVEL,
    limits: {
      maxAliases: g.MAX_ALIASES,
      maxTokens: g.MAX_TOKENS,
      maxDirectives: g.MAX_DIRECTIVES,
      maxCost: g.MAX_COST,
      actorRatePerMinute: g.ACTOR_RATE_LIMIT_PER_MINUTE,
      statusLookupsPerMinute: g.STATUS_LOOKUPS_PER_MINUTE,
    },
    maxTokenLifetimeSeconds: g.AUTH_MAX_TOKEN_LIFETIME_SECONDS,
    production: env.runtime.NODE_ENV === 'production',
    metricsPort: env.runtime.METRICS_PORT ?? null,
    audit: { natsUrl: env.events.NATS_URL, eventsPrefix: env.events.EVENTS_PREFIX, signingKey: env.signing.EVENT_SIGNING_KEY },
  };
}
