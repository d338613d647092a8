import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloGateway } from '@apollo/gateway';
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { expressMiddleware } from '@as-integrations/express5';
import {
  ActorTokenSigner,
  apolloLogger,
  createLogger,
  drainHttpServer,
  EventVerifier,
  httpErrorHandler,
  jsonBody,
  mountHealth,
  safeError,
  registry,
  startMetrics,
  startTracing,
  t,
  traceRequests,
  tracingOn,
  type Actor,
  type RequestMeta,
} from '@pdp/shared';
import express from 'express';
import type { GraphQLFormattedError } from 'graphql';
import { Counter } from 'prom-client';
import { AccessView, type AccessDecision } from './access';
import { Authenticator } from './auth';
import { OidcVerifier } from './oidc';
import { LimiterFactory } from './rate-limits';
import pg from 'pg';
import { loadSupergraph, subgraphSdl, SUBGRAPHS } from './composition';
import { SchemaCheck, type SchemaState } from './schema-check';
import { randomUUID } from 'node:crypto';
import type { GatewayConfig } from './config';
import { RequestGate, type GateLocals } from './gate';
import { DEFAULT_LIMITS } from './request-limits';
import { RefusalAudit } from './refusals';
import { outcomePlugin, requestMetrics, type RequestOutcome } from './metrics';
import { mountConsole } from './console';
import { mountForms } from './forms';
import { BalancedDataSource, SubgraphPool, subgraphUrls } from './pool';

const authFailures = new Counter({
  name: 'pdp_gateway_auth_failures_total',
  help: 'Requests refused for a bad, expired or foreign token',
  registers: [registry],
});

export interface GatewayContext {
  actor: Actor;
  meta: RequestMeta;
  /**
   * The signed, short-lived proof for a subgraph that this request came through the gateway: one per
   * subgraph the request calls (its audience is that subgraph), made when first needed.
   */
  actorTokenFor: (subgraph: string) => string;
  outcome: RequestOutcome;
}

/**
 * Codes whose messages the platform words itself (kk/ru, no values). Anything else reaching a
 * client — a subgraph that cannot be reached (`request to http://10.… failed, reason: …`), a
 * library's internal message — becomes a generic internal error: no host, address or library text.
 */
const CLIENT_CODES = new Set([
  'BAD_USER_INPUT',
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'NOT_FOUND',
  'CONFLICT',
  'SUBJECT_BLOCKED',
  'RATE_LIMITED',
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'OPERATION_RESOLUTION_FAILURE',
  'PERSISTED_QUERY_NOT_SUPPORTED',
  'PERSISTED_QUERY_NOT_FOUND',
  'BAD_REQUEST',
  'CONSENT_REQUIRED',
  'TRANSFER_FORBIDDEN',
  'CONSENT_WITHDRAWAL_FORBIDDEN',
  'UNAVAILABLE',
]);

export interface RunningGateway {
  url: string;
  port: number;
  metricsPort: number | null;
  /** What this gateway's view of the access registry gives an account now (tests wait on it). */
  accessOf(account: string): AccessDecision;
  /** Whether each subgraph's schema was found to match the supergraph this gateway serves. */
  schemaOf(subgraph: (typeof SUBGRAPHS)[number]): SchemaState;
  stop(): Promise<void>;
}

export async function startGateway(config: GatewayConfig): Promise<RunningGateway> {
  // Before the logger: it looks at whether this process traces (tracing.ts).
  await startTracing('gateway');
  const logger = createLogger('gateway', config.logLevel);
  const production = config.production ?? false;
  // Every refusal of the gate reaches the audit (signed, straight to JetStream: see refusals.ts).
  // The client-address hash key is derived from the gateway's own private key (HKDF): no extra secret.
  const refusals = config.audit ? new RefusalAudit({ ...config.audit, secret: config.actorSigningKey, logger }) : null;
  const actorTokens = ActorTokenSigner.fromKey(config.actorSigningKey);
  const oidc = new OidcVerifier({ ...config.oidc, logger });
  oidc.start();
  const access = new AccessView({
    natsUrl: config.audit?.natsUrl ?? 'nats://127.0.0.1:4222',
    prefix: config.audit?.eventsPrefix ?? 'pdp',
    verifier: EventVerifier.fromJson(config.eventVerifyKeys),
    maxStalenessMs: config.accessMaxStalenessSeconds * 1000,
    logger,
  });
  access.start();
  const authenticator = new Authenticator({ oidc, access, maxLifetimeSeconds: config.maxTokenLifetimeSeconds ?? 24 * 3600 });
  // Rate limits counted where every gateway instance sees them (rate-limits.ts).
  const limitStore = config.rateLimitDatabaseUrl
    ? new pg.Pool({ connectionString: config.rateLimitDatabaseUrl, max: 8, application_name: 'pdp-gateway-limits' })
    : null;
  limitStore?.on('error', (err) => logger.warn({ err: safeError(err) }, 'rate-limit database connection lost'));
  if (!limitStore && production) logger.warn('RATE_LIMIT_DATABASE_URL is not set: each gateway instance counts the rate limits on its own');
  const limiters = new LimiterFactory(limitStore);
  const gate = new RequestGate({
    limiters,
    onRefused: (refusal) => refusals?.record(refusal),
    limits: { ...DEFAULT_LIMITS, ...config.limits, maxDepth: config.maxQueryDepth, publicRatePerMinute: config.publicRatePerMinute },
    production,
    caller: (req, meta) =>
      authenticator.caller(req.headers.authorization, meta.locale).catch((err: unknown) => {
        // No PD, no token, no client address in the log: the request id and the kind of refusal only.
        authFailures.inc();
        logger.warn({ requestId: meta.requestId, reason: (err as { reason?: string }).reason ?? null }, 'authentication failed');
        throw err;
      }),
  });
  // Each subgraph may have several instances (comma-separated URLs): the gateway spreads calls over them.
  const pools = Object.fromEntries(SUBGRAPHS.map((name) => [name, new SubgraphPool(name, subgraphUrls(config.subgraphs[name]))])) as Record<
    (typeof SUBGRAPHS)[number],
    SubgraphPool
  >;
  // The supergraph `npm run build` composed and checked (or, from source, composed now); each
  // subgraph is checked against it once it answers (schema-check.ts).
  const supergraph = loadSupergraph();
  const system = Object.freeze({ id: 'system:gateway', roles: [], creditorId: null }) as unknown as Actor;
  const schemaCheck = new SchemaCheck({
    pools,
    supergraph: supergraph.sdl,
    referenceSdl: subgraphSdl,
    actorToken: (name) => actorTokens.sign(system, { requestId: randomUUID(), locale: 'RU', ip: null, userAgent: 'pdp-gateway' }, name),
    logger,
  });
  schemaCheck.start();
  // @apollo/gateway, unless told not to, probes the AWS, GCP, Azure and Alibaba metadata endpoints
  // when it is made and then sends usage metrics to Apollo's servers. A personal-data platform sends
  // nothing anywhere it was not configured to (tests/e2e/no-phone-home.test.ts), whatever the
  // environment says.
  process.env.APOLLO_TELEMETRY_DISABLED = 'true';
  const gateway = new ApolloGateway({
    supergraphSdl: supergraph.sdl,
    buildService: ({ name }) => new BalancedDataSource(pools[name as (typeof SUBGRAPHS)[number]]),
    logger: apolloLogger(logger),
  });
  gateway.onSchemaLoadOrUpdate(({ apiSchema }) => gate.setSchema(apiSchema));
  const apollo = new ApolloServer<GatewayContext>({
    gateway,
    introspection: !production,
    hideSchemaDetailsFromClientErrors: production,
    includeStacktraceInErrorResponses: false,
    // Every request carries its text: the gate checks that text (a hash alone would pass no check).
    persistedQueries: false,
    logger: apolloLogger(logger),
    formatError: (formatted) => maskForClient(formatted, logger),
    plugins: [outcomePlugin(), valueCompletionPlugin(logger)],
  });
  await apollo.start();
  await limiters.ready();

  let shuttingDown = false;
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', config.trustProxy);
  const metrics = await startMetrics(app, { production, metricsPort: config.metricsPort ?? null, host: config.host });
  // A subgraph is ready when one of its instances is; each probe answers within the readiness deadline.
  mountHealth(
    app,
    {
      ...Object.fromEntries(
        SUBGRAPHS.map((name) => [
          name,
          async () => {
            if (!(await pools[name].probe())) throw new Error('not ready');
          },
        ]),
      ),
      // Signed-in requests need both: the provider's keys, and an access view known to be current.
      'identity-provider': async () => {
        if (!oidc.ready) throw new Error('keys not loaded');
      },
      'access-registry': async () => {
        if (!access.fresh) throw new Error('not current');
      },
      schema: async () => {
        const differing = schemaCheck.differing();
        if (differing.length > 0) throw new Error(`differs: ${differing.join(', ')}`);
      },
    },
    () => shuttingDown,
    // A subgraph that is down is down for every gateway: taking them all out of their balancer
    // would take the public forms and the other subgraphs' fields with it. Reported, not deciding
    // (`/readyz?strict` asks for everything); the gateway's own view of the provider and the registry decides.
    [...SUBGRAPHS, 'schema'],
  );
  for (const pool of Object.values(pools)) pool.startProbing();
  // Which provider to sign in at, for clients that need to ask (the console, `npm run token`).
  app.get('/auth/config', (_req, res) => {
    res.setHeader('cache-control', 'no-store');
    res.json({ issuer: config.oidc.issuer, audience: config.oidc.audience });
  });
  // A span per GraphQL request (only while tracing): the root of the request's trace, or the caller's child.
  if (tracingOn()) app.use('/graphql', traceRequests('/graphql'));
  app.use(
    '/graphql',
    requestMetrics(),
    jsonBody(),
    gate.middleware(),
    expressMiddleware(apollo, {
      context: async ({ res }) => {
        const { actor, meta } = res.locals.gate as GateLocals;
        const tokens = new Map<string, string>();
        const actorTokenFor = (subgraph: string) => {
          let token = tokens.get(subgraph);
          if (!token) tokens.set(subgraph, (token = actorTokens.sign(actor, meta, subgraph)));
          return token;
        };
        return { actor, meta, outcome: res.locals.outcome as RequestOutcome, actorTokenFor };
      },
    }),
  );
  if (tracingOn()) app.use('/forms', traceRequests('/forms'));
  mountForms(app, { logger, secret: config.actorSigningKey, onRefused: (refusal) => refusals?.record(refusal) });
  mountConsole(app, { logger, issuer: config.oidc.issuer });
  app.use(httpErrorHandler(logger));
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(config.port, config.host, () => resolve(s));
  });
  const port = (server.address() as AddressInfo).port;
  logger.info({ port, metricsPort: metrics.port, production }, 'gateway started');
  return {
    url: `http://${config.host}:${port}/graphql`,
    port,
    metricsPort: metrics.port,
    accessOf: (account) => access.resolve(account),
    schemaOf: (subgraph) => schemaCheck.state.get(subgraph) ?? 'unchecked',
    async stop() {
      shuttingDown = true;
      for (const pool of Object.values(pools)) pool.stopProbing();
      // The requests in flight answered (their subgraph calls too), keep-alive connections closed once idle.
      await drainHttpServer(server);
      await metrics.stop();
      await apollo.stop();
      await Promise.all(Object.values(pools).map((pool) => pool.close()));
      await refusals?.stop();
      oidc.stop();
      schemaCheck.stop();
      await access.stop();
      await limitStore?.end();
    },
  };
}

/**
 * @apollo/gateway reports a null it had to put where the schema promised a value (a subgraph that
 * answered without it) only in `extensions.valueCompletion`, with graphql-js's English text: kept
 * for the log (paths only), never sent.
 */
function valueCompletionPlugin(logger: ReturnType<typeof createLogger>): ApolloServerPlugin {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ response }) {
          if (response.body.kind !== 'single') return;
          const result = response.body.singleResult;
          const completion = result.extensions?.valueCompletion as Array<{ path?: unknown }> | undefined;
          if (!completion) return;
          logger.warn({ paths: completion.map((e) => e.path ?? null).slice(0, 20) }, 'null put where the schema promised a value');
          const { valueCompletion: _, ...rest } = result.extensions!;
          result.extensions = Object.keys(rest).length > 0 ? rest : undefined;
        },
      };
    },
  };
}

function maskForClient(formatted: GraphQLFormattedError, logger: ReturnType<typeof createLogger>): GraphQLFormattedError {
  const code = formatted.extensions?.code;
  // An error made from a subgraph's HTTP status (`extensions.response` holds its URL and body) is the
  // gateway's own business, whatever code the library gave it.
  if (typeof code === 'string' && CLIENT_CODES.has(code) && !('response' in (formatted.extensions ?? {}))) {
    const { serviceName: _s, exception: _e, stacktrace: _st, ...extensions } = formatted.extensions ?? {};
    return { ...formatted, extensions };
  }
  logger.error({ code: typeof code === 'string' ? code : null, path: formatted.path }, 'internal error masked for the client');
  return { message: t('internal'), ...(formatted.path ? { path: formatted.path } : {}), extensions: { code: 'INTERNAL_SERVER_ERROR' } };
}

export type { GatewayConfig } from './config';
export { DEFAULT_LIMITS, type RequestLimits } from './request-limits';
