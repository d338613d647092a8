import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloGateway, RemoteGraphQLDataSource, type GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { expressMiddleware } from '@as-integrations/express5';
import {
  ACTOR_HEADER,
  apolloLogger,
  createLogger,
  httpErrorHandler,
  jsonBody,
  mountHealth,
  registry,
  signActorToken,
  startMetrics,
  t,
  type Actor,
  type RequestMeta,
} from '@pdp/shared';
import express from 'express';
import type { GraphQLFormattedError } from 'graphql';
import { Counter } from 'prom-client';
import { authenticate } from './auth';
import { composeSupergraph, SUBGRAPHS } from './composition';
import type { GatewayConfig } from './config';
import { DEFAULT_LIMITS, RequestGate, type GateLocals } from './gate';
import { outcomePlugin, requestMetrics, type RequestOutcome } from './metrics';

const authFailures = new Counter({
  name: 'pdp_gateway_auth_failures_total',
  help: 'Requests refused for a bad, expired or foreign token',
  registers: [registry],
});

export interface GatewayContext {
  actor: Actor;
  meta: RequestMeta;
  /** The signed, short-lived proof for subgraphs that this request came through the gateway. */
  actorToken: string;
  outcome: RequestOutcome;
}

/** Passes the signed actor to every subgraph call; nothing else from the client is forwarded. */
class ActorForwardingDataSource extends RemoteGraphQLDataSource<GatewayContext> {
  override willSendRequest({ request, context }: GraphQLDataSourceProcessOptions<GatewayContext>) {
    if (context.actorToken) request.http?.headers.set(ACTOR_HEADER, context.actorToken);
  }
}

/**
 * Codes whose messages the platform words itself (kk/ru, no values). Anything else reaching a
 * client — a subgraph that cannot be reached (`request to http://10.… failed, reason: …`), a
 * library's internal message — becomes a generic internal error: no host, address or library text.
 */
const CLIENT_CODES = new Set([
  'BAD_USER_INPUT', 'UNAUTHENTICATED', 'FORBIDDEN', 'NOT_FOUND', 'CONFLICT', 'SUBJECT_BLOCKED', 'RATE_LIMITED',
  'GRAPHQL_PARSE_FAILED', 'GRAPHQL_VALIDATION_FAILED', 'OPERATION_RESOLUTION_FAILURE', 'PERSISTED_QUERY_NOT_SUPPORTED',
  'PERSISTED_QUERY_NOT_FOUND', 'BAD_REQUEST', 'CONSENT_REQUIRED', 'TRANSFER_FORBIDDEN', 'CONSENT_WITHDRAWAL_FORBIDDEN',
]);

export interface RunningGateway {
  url: string;
  port: number;
  metricsPort: number | null;
  stop(): Promise<void>;
}

export async function startGateway(config: GatewayConfig): Promise<RunningGateway> {
  const logger = createLogger('gateway', config.logLevel);
  const production = config.production ?? false;
  const gate = new RequestGate({
    limits: { ...DEFAULT_LIMITS, ...config.limits, maxDepth: config.maxQueryDepth, publicRatePerMinute: config.publicRatePerMinute },
    production,
    trustedActor: (req, meta) =>
      authenticate(req.headers.authorization, { secret: config.authJwtSecret, maxLifetimeSeconds: config.maxTokenLifetimeSeconds ?? 24 * 3600 }, meta.locale).catch(
        (err: unknown) => {
          // No PD, no token, no client address in the log: the request id only.
          authFailures.inc();
          logger.warn({ requestId: meta.requestId }, 'authentication failed');
          throw err;
        },
      ),
  });
  const gateway = new ApolloGateway({
    supergraphSdl: composeSupergraph(config.subgraphs),
    buildService: ({ url }) => new ActorForwardingDataSource({ url }),
    logger: apolloLogger(logger),
  });
  gateway.onSchemaLoadOrUpdate(({ apiSchema }) => gate.setSchema(apiSchema));
  const apollo = new ApolloServer<GatewayContext>({
    gateway,
    introspection: !production,
    hideSchemaDetailsFromClientErrors: production,
    includeStacktraceInErrorResponses: false,
    logger: apolloLogger(logger),
    formatError: (formatted) => maskForClient(formatted, logger),
    plugins: [outcomePlugin()],
  });
  await apollo.start();

  let shuttingDown = false;
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', config.trustProxy);
  const metrics = await startMetrics(app, { production, metricsPort: config.metricsPort ?? null, host: config.host });
  mountHealth(
    app,
    Object.fromEntries(
      SUBGRAPHS.map((name) => [
        name,
        async () => {
          const res = await fetch(new URL('/readyz', config.subgraphs[name]));
          if (!res.ok) throw new Error(`readyz ${res.status}`);
        },
      ]),
    ),
    () => shuttingDown,
  );
  app.use(
    '/graphql',
    requestMetrics(),
    jsonBody(),
    gate.middleware(),
    expressMiddleware(apollo, {
      context: async ({ res }) => {
        const { actor, meta } = res.locals.gate as GateLocals;
        return { actor, meta, outcome: res.locals.outcome as RequestOutcome, actorToken: await signActorToken(config.internalJwtSecret, actor, meta) };
      },
    }),
  );
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
    async stop() {
      shuttingDown = true;
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections?.();
      await metrics.stop();
      await apollo.stop();
    },
  };
}

function maskForClient(formatted: GraphQLFormattedError, logger: ReturnType<typeof createLogger>): GraphQLFormattedError {
  const code = formatted.extensions?.code;
  if (typeof code === 'string' && CLIENT_CODES.has(code)) {
    const { serviceName: _s, exception: _e, stacktrace: _st, ...extensions } = formatted.extensions ?? {};
    return { ...formatted, extensions };
  }
  logger.error({ code: typeof code === 'string' ? code : null, path: formatted.path }, 'internal error masked for the client');
  return { message: t('internal'), ...(formatted.path ? { path: formatted.path } : {}), extensions: { code: 'INTERNAL_SERVER_ERROR' } };
}

export type { GatewayConfig } from './config';
export { DEFAULT_LIMITS, type RequestLimits } from './gate';
