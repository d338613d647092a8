import { z } from 'zod';
import { parseActorVerifyKeys } from './auth/actor';
import { importSigningKey, parseVerifyKeys } from './events/signing';
import { parseKeySpec } from './crypto';

/** A configuration error lists every problem at once, so an operator fixes them in one pass. */
export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
  }
}

/**
 * Parses several zod models of the environment (one per concern), collecting every error, and
 * returns one frozen, typed object.
 */
export function parseEnv<M extends Record<string, z.ZodType>>(models: M, source: NodeJS.ProcessEnv = process.env): Readonly<{ [K in keyof M]: z.infer<M[K]> }> {
  const problems: string[] = [];
  const out: Record<string, unknown> = {};
  for (const [concern, model] of Object.entries(models)) {
    const parsed = model.safeParse(source);
    if (parsed.success) out[concern] = Object.freeze(parsed.data);
    else for (const issue of parsed.error.issues) problems.push(`${issue.path.join('.') || concern}: ${issue.message}`);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze(out) as { [K in keyof M]: z.infer<M[K]> };
}

const port = (fallback: number) => z.coerce.number().int().min(0).max(65535).default(fallback);

/** Models shared by every service; a service adds its own next to these. */
export const commonEnv = {
  runtime: z.object({
    /** `production` turns off introspection and field suggestions and takes `/metrics` off the public port. */
    NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
    /** A port of its own for `/metrics`; unset in production means no metrics endpoint. */
    METRICS_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  }),
  logging: z.object({
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  }),
  events: z.object({
    NATS_URL: z.string().default('nats://127.0.0.1:4222'),
    EVENTS_PREFIX: z
      .string()
      .regex(/^[a-z][a-z0-9_]*$/)
      .default('pdp'),
    /** Replicas of the streams (and the ops bucket) a service creates: 1 on one server, 3 on a three-node cluster. */
    EVENTS_REPLICAS: z.coerce.number().int().min(1).max(5).default(1),
    /** A delivered event not acknowledged within this is redelivered (an instance killed mid-way). */
    EVENTS_ACK_WAIT_SECONDS: z.coerce.number().int().min(1).max(3600).default(30),
    /** How often each instance reports its health snapshot (ops view, gauges). */
    HEALTH_REPORT_MS: z.coerce.number().int().min(200).max(60_000).default(5000),
  }),
  /** Event signatures (docs/events.md, "Signatures"); messages never quote key material. */
  signing: z.object({
    EVENT_SIGNING_KEY: z.string({ error: "required: this service's Ed25519 private key (JWK or PKCS#8 PEM)" }).superRefine((value, ctx) => {
      try {
        importSigningKey(value);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message });
      }
    }),
    EVENT_VERIFY_KEYS: z
      .string({ error: 'required: JSON object, service → Ed25519 public key (JWK or SPKI PEM), or a list of them' })
      .superRefine((value, ctx) => {
        for (const problem of parseVerifyKeys(value).problems) ctx.addIssue({ code: 'custom', message: problem });
      }),
  }),
  security: z.object({
    /** The gateway's Ed25519 public key: the only signer of the actor tokens a subgraph accepts. */
    ACTOR_VERIFY_KEYS: z.string({ error: "required: the gateway's Ed25519 public key (JWK or SPKI PEM), or a JSON list of them" }).superRefine((value, ctx) => {
      for (const problem of parseActorVerifyKeys(value).problems) ctx.addIssue({ code: 'custom', message: problem });
    }),
    PD_ENCRYPTION_KEYS: z.string({ error: 'required: "keyId:base64key[,keyId:base64key...]"' }).superRefine((value, ctx) => {
      for (const problem of parseKeySpec(value).problems) ctx.addIssue({ code: 'custom', message: problem });
    }),
    BLIND_INDEX_KEY: z.string().min(32, 'must be at least 32 characters'),
  }),
};

export function serviceEnv(defaultPort: number) {
  return z.object({
    PORT: port(defaultPort),
    HOST: z.string().default('127.0.0.1'),
    DATABASE_URL: z.string().url(),
    /** The migration role (db-roles.ts): migrations and grants run with it, the service serves with DATABASE_URL. */
    MIGRATION_DATABASE_URL: z.string().url().optional(),
    DB_POOL_MAX: z.coerce.number().int().positive().default(10),
  });
}
