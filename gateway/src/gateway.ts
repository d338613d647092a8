import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloGateway, RemoteGraphQLDataSource, type GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { expressMiddleware } from '@as-integrations/express5';
import {
  ACTOR_HEADER,
  createLogger,
  localeFromAcceptLanguage,
  mountHealth,
  registry,
  signActorToken,
  type Actor,
  type RequestMeta,
} from '@pdp/shared';
import express from 'express';
import { Counter } from 'prom-client';
import { authenticate } from './auth';
import { composeSupergraph, SUBGRAPHS } from './composition';
import type { GatewayConfig } from './config';
import { depthLimit, publicRateLimit } from './limits';

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
}

/** Passes the signed actor to every subgraph call; nothing else from the client is forwarded. */
class ActorForwardingDataSource extends RemoteGraphQLDataSource<GatewayContext> {
  override willSendRequest({ request, context }: GraphQLDataSourceProcessOptions<GatewayContext>) {
    if (context.actorToken) request.http?.headers.set(ACTOR_HEADER, context.actorToken);
  }
}

export interface RunningGateway {
  url: string;
  port: number;
  stop(): Promise<void>;
}

export async function startGateway(config: GatewayConfig): Promise<RunningGateway> {
  const logger = createLogger('gateway', config.logLevel);
  const gateway = new ApolloGateway({
    supergraphSdl: composeSupergraph(config.subgraphs),
    buildService: ({ url }) => new ActorForwardingDataSource({ url }),
  });
  const apollo = new ApolloServer<GatewayContext>({
    gateway,
    validationRules: [depthLimit(config.maxQueryDepth)],
    introspection: true,
    includeStacktraceInErrorResponses: false,
  });
  await apollo.start();

  let shuttingDown = false;
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', config.trustProxy);
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
    publicRateLimit(config.publicRatePerMinute),
    express.json({ limit: '256kb' }),
    expressMiddleware(apollo, {
      context: async ({ req }) => {
        const meta: RequestMeta = {
          requestId: randomUUID(),
          locale: localeFromAcceptLanguage(req.headers['accept-language']),
          ip: req.ip ?? null,
          userAgent: req.headers['user-agent']?.slice(0, 512) ?? null,
        };
        const actor = await authenticate(req.headers.authorization, config.authJwtSecret, meta.locale).catch((err: unknown) => {
          // No PD, no token, no client address in the log: the request id only.
          authFailures.inc();
          logger.warn({ requestId: meta.requestId }, 'authentication failed');
          throw err;
        });
        return { actor, meta, actorToken: await signActorToken(config.internalJwtSecret, actor, meta) };
      },
    }),
  );
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(config.port, config.host, () => resolve(s));
  });
  const port = (server.address() as AddressInfo).port;
  logger.info({ port }, 'gateway started');
  return {
    url: `http://${config.host}:${port}/graphql`,
    port,
    async stop() {
      shuttingDown = true;
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections?.();
      await apollo.stop();
    },
  };
}
