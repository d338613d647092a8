import { commonEnv, parseEnv } from '@pdp/shared';
import { z } from 'zod';

export interface GatewayConfig {
  port: number;
  host: string;
  authJwtSecret: string;
  internalJwtSecret: string;
  subgraphs: Record<'subjects' | 'appeals' | 'consents' | 'audit', string>;
  maxQueryDepth: number;
  /** Requests per minute per client IP without a token (the public forms); 0 turns the limit off. */
  publicRatePerMinute: number;
  trustProxy: boolean;
  logLevel: string;
}

const gatewayEnv = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(4000),
  HOST: z.string().default('127.0.0.1'),
  AUTH_JWT_SECRET: z.string().min(32, 'must be at least 32 characters'),
  INTERNAL_JWT_SECRET: z.string().min(32, 'must be at least 32 characters'),
  SUBJECTS_URL: z.url().default('http://127.0.0.1:4001/graphql'),
  APPEALS_URL: z.url().default('http://127.0.0.1:4002/graphql'),
  CONSENTS_URL: z.url().default('http://127.0.0.1:4003/graphql'),
  AUDIT_URL: z.url().default('http://127.0.0.1:4004/graphql'),
  MAX_QUERY_DEPTH: z.coerce.number().int().min(2).max(50).default(12),
  PUBLIC_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(0).default(60),
  /** Behind a reverse proxy, take the client IP (consent evidence) from X-Forwarded-For. */
  TRUST_PROXY: z.stringbool().default(false),
});

export function gatewayConfigFromEnv(source: NodeJS.ProcessEnv = process.env): GatewayConfig {
  const env = parseEnv({ logging: commonEnv.logging, gateway: gatewayEnv }, source);
  const g = env.gateway;
  return {
    port: g.PORT,
    host: g.HOST,
    authJwtSecret: g.AUTH_JWT_SECRET,
    internalJwtSecret: g.INTERNAL_JWT_SECRET,
    subgraphs: { subjects: g.SUBJECTS_URL, appeals: g.APPEALS_URL, consents: g.CONSENTS_URL, audit: g.AUDIT_URL },
    maxQueryDepth: g.MAX_QUERY_DEPTH,
    publicRatePerMinute: g.PUBLIC_RATE_LIMIT_PER_MINUTE,
    trustProxy: g.TRUST_PROXY,
    logLevel: env.logging.LOG_LEVEL,
  };
}
