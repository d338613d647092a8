/**
 * The development OpenID provider as its own process (`npm start` runs it, as it runs nats-server,
 * unless OIDC_ISSUER names another provider). Configured from the environment; refuses to start in
 * production.
 */
import { ConfigError, parseEnv } from '@pdp/shared';
import { z } from 'zod';
import { startDevProvider } from './index';

const env = z.object({
  DEV_OIDC_PORT: z.coerce.number().int().min(0).max(65535).default(4010),
  DEV_OIDC_HOST: z.string().default('127.0.0.1'),
  /** The audience of its access tokens: the gateway's OIDC_AUDIENCE. */
  OIDC_AUDIENCE: z.string().min(1).default('pdp-api'),
  DEV_OIDC_SIGNING_KEY: z.string({ error: 'required: an ES256 private JWK' }).transform((s, ctx) => {
    try {
      return JSON.parse(s) as import('node:crypto').JsonWebKey;
    } catch {
      ctx.addIssue({ code: 'custom', message: 'must be a JSON private JWK' });
      return z.NEVER;
    }
  }),
  DEV_OIDC_COOKIE_KEY: z.string().min(32, 'must be at least 32 characters'),
  DEV_OIDC_CLIENT_KEY: z.string().min(32, 'must be at least 32 characters'),
  /** Partner clients (client credentials), comma-separated ids. */
  DEV_OIDC_PARTNER_CLIENTS: z
    .string()
    .default('partner-demo')
    .transform((s) =>
      s
        .split(',')
        .map((c) => c.trim())
        .filter(Boolean),
    ),
  /** Where the staff console may send people back after sign-in (its /console/callback URLs), comma-separated. */
  DEV_OIDC_CONSOLE_REDIRECTS: z
    .string()
    .optional()
    .transform((s) =>
      s
        ?.split(',')
        .map((c) => c.trim())
        .filter(Boolean),
    ),
  DEV_OIDC_TOKEN_TTL_SECONDS: z.coerce
    .number()
    .int()
    .min(60)
    .max(24 * 3600)
    .default(3600),
});

try {
  const { dev } = parseEnv({ dev: env });
  const running = await startDevProvider({
    port: dev.DEV_OIDC_PORT,
    host: dev.DEV_OIDC_HOST,
    audience: dev.OIDC_AUDIENCE,
    signingKey: dev.DEV_OIDC_SIGNING_KEY,
    cookieKeys: [dev.DEV_OIDC_COOKIE_KEY],
    clientKey: dev.DEV_OIDC_CLIENT_KEY,
    partnerClients: dev.DEV_OIDC_PARTNER_CLIENTS,
    ...(dev.DEV_OIDC_CONSOLE_REDIRECTS ? { consoleRedirectUris: dev.DEV_OIDC_CONSOLE_REDIRECTS } : {}),
    accessTokenTtlSeconds: dev.DEV_OIDC_TOKEN_TTL_SECONDS,
  });
  console.log(JSON.stringify({ level: 'info', msg: 'development OpenID provider started', issuer: running.issuer }));
  const stop = () => void running.stop().then(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
} catch (err) {
  console.error(err instanceof ConfigError || err instanceof Error ? err.message : err);
  process.exit(1);
}
