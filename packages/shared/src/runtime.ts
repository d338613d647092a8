import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import { expressMiddleware } from '@as-integrations/express5';
import { buildSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLResolverMap } from '@apollo/subgraph';
import express from 'express';
import type { DocumentNode, GraphQLFormattedError } from 'graphql';
import type { Kysely, Migration } from 'kysely';
import type { JetStreamClient, JetStreamManager, NatsConnection } from 'nats';
import { ACTOR_HEADER, ActorTokenVerifier } from './auth/actor';
import { Guard, type RequestScope } from './auth/guard';
import { FieldCipher, type EncryptedColumns, type EncryptedTable } from './crypto';
import { createDb, migrateToLatest, pingDb } from './db';
import { grantRuntime, runtimeRoleExcess, type TablePrivileges } from './db-roles';
import { FieldReencryption, fieldEncryptionState, legacyRetiredTables } from './field-encryption';
import { UnauthenticatedError } from './errors';
import { isDurableOf, type ServiceName } from './events/catalog';
import { EventConsumer, type ConsumerSpec } from './events/consumer';
import { Handoffs } from './events/handoff';
import { OutboxKeeper } from './events/keeper';
import { connectionState, connectNats, ensureHandoffStream, ensureStream, natsInboxPrefix } from './events/nats';
import { OutboxRelay } from './events/relay';
import { EventSigner, EventVerifier, registerEventSigner } from './events/signing';
import { mountHealth, runChecks, startMetrics } from './health';
import { HealthReporter, instanceId, OPS_ARGUMENT_IDS, OPS_ARGUMENT_TEXTS, OPS_PAGE_MAXIMA, opsResolvers, OpsResponder, OpsView, type OpsService } from './ops';
import { localeFromAcceptLanguage, t } from './i18n';
import { guardArguments, type ArgumentRules } from './arguments';
import { subjectOfCall, type SubjectFinders } from './auth/permissions';
import { drainHttpServer } from './drain';
import { httpErrorHandler, jsonBody } from './http';
import { createLogger, safeError, scrubText, type Logger } from './logger';
import { graphqlDuration } from './metrics';
import { startTracing, traceRequests, tracingOn } from './tracing';

/** What every service is started with; services add their own settings in `extra`. */
export interface ServiceConfig<Extra = unknown> {
  port: number;
  host: string;
  databaseUrl: string;
  /**
   * The migration role's URL (`MIGRATION_DATABASE_URL`): the migrations run with it, then it grants
   * the runtime role (the user of `databaseUrl`) what `tablePrivileges` says; the service serves with
   * `databaseUrl` only. Unset: the migrations run with `databaseUrl` — development only: in production
   * a runtime role that could run them (DDL, superuser) stops the start (db-roles.ts).
   */
  migrationDatabaseUrl?: string | null;
  dbPoolMax: number;
  natsUrl: string;
  eventsPrefix: string;
  /** The gateway's Ed25519 public key (or a JSON list during a rotation): the actor tokens' signer. */
  actorVerifyKeys: string;
  encryptionKeys: string;
  blindIndexKey: string;
  /** This service's Ed25519 private key (JWK or PEM): it signs every event the service produces. */
  eventSigningKey: string;
  /** JSON object, service → public key(s): events are verified against their source's key. */
  eventVerifyKeys: string;
  logLevel: string;
  /** Production mode: no introspection, no field suggestions, `/metrics` only on `metricsPort`. */
  production?: boolean;
  /** A separate port for `/metrics` (not the GraphQL one); in production without it, no metrics endpoint. */
  metricsPort?: number | null;
  /** Replicas of the platform's streams and ops bucket when this service creates them (`EVENTS_REPLICAS`, 1). */
  eventsReplicas?: number;
  /** How long a delivered event may stay unacknowledged before redelivery (`EVENTS_ACK_WAIT_SECONDS`, 30 s). */
  ackWaitMs?: number;
  /** How often the instance reports its health snapshot (`HEALTH_REPORT_MS`, 5 s). */
  healthReportMs?: number;
  extra: Extra;
}

export interface ServiceDeps<DB, Extra> {
  name: ServiceName;
  db: Kysely<DB>;
  config: ServiceConfig<Extra>;
  logger: Logger;
  guard: Guard;
  cipher: FieldCipher<DB>;
  prefix: string;
  /** Personal data handed over outside the event stream (`events/handoff.ts`). */
  handoffs: Handoffs;
  /**
   * The event stream itself, for a service that must publish or read outside its outbox and
   * consumers (the audit's witness of its checkpoints, appeals' access bucket): JetStream, the
   * stream's name, this service's signer and the verifier of everyone's events.
   */
  events: { js: JetStreamClient; jsm: JetStreamManager; stream: string; signer: EventSigner; verifier: EventVerifier };
  /** Replicas of what the service creates on JetStream (`EVENTS_REPLICAS`). */
  replicas: number;
}

/** Something a service runs in the background while it serves (started after the server, stopped first). */
export interface BackgroundWorker {
  start(): void;
  stop(): Promise<void>;
  /** A readiness check of the worker's own (throws when it cannot do its work); named by `name`. */
  check?: () => Promise<void>;
  readonly name?: string;
}

/** Resolvers by type name, as a service's generated `Resolvers` type checks them. */
export type ResolverMap = Record<string, object>;

export interface ServiceDefinition<DB, Extra, Ctx extends RequestScope> {
  name: ServiceName;
  typeDefs: DocumentNode;
  migrations: Record<string, Migration>;
  /** What the runtime role may do with each table (db-roles.ts); a table not named: SELECT, INSERT, UPDATE, DELETE. */
  tablePrivileges?: TablePrivileges;
  /** Every encrypted column of the service's tables: what the cipher binds, what the re-encryption job brings up to date. */
  encryptedColumns: EncryptedColumns<DB>;
  /**
   * The subgraph's resolvers by type: each service writes `{ … } satisfies Resolvers`, its types
   * generated from its schema (`npm run codegen`), so a resolver that no longer matches fails the type check.
   */
  resolvers: (deps: ServiceDeps<DB, Extra>) => ResolverMap;
  consumers: (deps: ServiceDeps<DB, Extra>) => ConsumerSpec[];
  context: (deps: ServiceDeps<DB, Extra>, scope: RequestScope) => Ctx;
  /** Exceptions to the shared argument checks (see `guardArguments`), e.g. IDs that are sequence numbers. */
  argumentRules?: ArgumentRules;
  /** This subgraph serves the ops view (`platformHealth`, `parkedEvents`, `replayParkedEvent`; ops.ts). */
  opsView?: boolean;
  /** Periodic jobs (retention sweeps and the like), started after the server. */
  jobs?: (deps: ServiceDeps<DB, Extra>) => Array<{ name: string; everyMs: number; run: () => Promise<void> }>;
  /** How this service finds the subject of its records (each row's `subject` in permissions.ts), for refused calls. */
  subjectFinders?: (deps: ServiceDeps<DB, Extra>) => SubjectFinders;
  /** Work done once after the migrations, before the service serves (e.g. the bootstrap DPO's grant). */
  init?: (deps: ServiceDeps<DB, Extra>) => Promise<void>;
  /** Long-running background work (e.g. appeals' access bucket sync). */
  workers?: (deps: ServiceDeps<DB, Extra>) => BackgroundWorker[];
}

export interface RunningService<DB> {
  name: ServiceName;
  url: string;
  port: number;
  db: Kysely<DB>;
  stop(): Promise<void>;
}

/**
 * The subgraph bootstrap: db → migrate → NATS stream → outbox relay → consumers → HTTP server with
 * health, metrics and GraphQL; `stop()` shuts down in reverse order, letting in-flight work finish.
 */
export async function startService<DB, Extra, Ctx extends RequestScope>(
  def: ServiceDefinition<DB, Extra, Ctx>,
  config: ServiceConfig<Extra>,
): Promise<RunningService<DB>> {
  // Before the logger and the database: they look at whether this process traces (tracing.ts).
  await startTracing(def.name);
  const logger = createLogger(def.name, config.logLevel);
  // Keys are imported once, before anything connects: a bad key stops the start, not every event.
  const signer = EventSigner.fromKey(def.name, config.eventSigningKey);
  const verifier = EventVerifier.fromJson(config.eventVerifyKeys);
  const actorTokens = ActorTokenVerifier.fromKeys(config.actorVerifyKeys);
  if (!verifier.trusts(signer)) throw new Error(`EVENT_SIGNING_KEY: its public key is not listed for ${def.name} in EVENT_VERIFY_KEYS`);
  const db = createDb<DB>(config.databaseUrl, config.dbPoolMax);
  if (config.migrationDatabaseUrl) {
    // Migrations and grants with the migration role, on a connection of their own closed before serving.
    const runtimeRole = decodeURIComponent(new URL(config.databaseUrl).username);
    if (!runtimeRole) throw new Error('DATABASE_URL must name its role when MIGRATION_DATABASE_URL is set');
    const owner = createDb<any>(config.migrationDatabaseUrl, 1);
    try {
      await migrateToLatest(owner, def.migrations);
      await grantRuntime(owner, runtimeRole, def.tablePrivileges);
    } finally {
      await owner.destroy();
    }
  } else {
    await migrateToLatest(db as Kysely<any>, def.migrations);
  }
  // 7.2.1: the role the service serves with may change data, never the schema.
  const excess = await runtimeRoleExcess(db as Kysely<any>);
  if (excess.length > 0 && config.production) {
    await db.destroy();
    throw new Error(
      `DATABASE_URL connects as a role with ${excess.join(', ')}: serve with the runtime role, migrate with MIGRATION_DATABASE_URL (docs/security.md, "Database roles")`,
    );
  }
  if (excess.length > 0) logger.warn({ excess }, 'the database role has more than the service needs (development only; docs/security.md, "Database roles")');
  // v1 values (bound to no row) open only in tables whose re-encryption has not completed yet.
  const encryptedTables = Object.keys(def.encryptedColumns) as Array<EncryptedTable<DB>>;
  const retired = encryptedTables.length > 0 ? await legacyRetiredTables(db as Kysely<any>) : new Set<string>();
  const cipher = new FieldCipher<DB>(def.name, config.encryptionKeys, { legacyTables: encryptedTables.filter((t) => !retired.has(t)) });

  const nc: NatsConnection = await connectNats(config.natsUrl, `pdp-${def.name}`, { inboxPrefix: natsInboxPrefix(def.name) });
  const connection = connectionState(nc);
  const js: JetStreamClient = nc.jetstream();
  const jsm: JetStreamManager = await nc.jetstreamManager();
  const replicas = config.eventsReplicas ?? 1;
  const stream = await ensureStream(jsm, config.eventsPrefix, { replicas });
  const handoffStream = await ensureHandoffStream(jsm, config.eventsPrefix, { replicas });
  const handoffs = new Handoffs({
    service: def.name,
    db: db as Kysely<any>,
    jsm,
    js,
    prefix: config.eventsPrefix,
    stream: handoffStream,
    logger,
  });

  const deps: ServiceDeps<DB, Extra> = {
    name: def.name,
    db,
    config,
    logger,
    guard: new Guard(db as Kysely<any>, config.eventsPrefix, def.name),
    cipher,
    prefix: config.eventsPrefix,
    handoffs,
    events: { js, jsm, stream, signer, verifier },
    replicas,
  };

  const unregisterSigner = registerEventSigner(config.eventsPrefix, signer);
  await def.init?.(deps);
  const relay = new OutboxRelay({ db: db as Kysely<any>, databaseUrl: config.databaseUrl, js, logger, service: def.name });
  await relay.start();
  const keeper = new OutboxKeeper({
    db: db as Kysely<any>,
    nc,
    jsm,
    prefix: config.eventsPrefix,
    stream,
    handoffStream,
    logger,
    service: def.name,
    kick: () => relay.kick(),
  });
  keeper.start();
  const specs = def.consumers(deps);
  const unlisted = specs.filter((spec) => !isDurableOf(def.name, spec.name)).map((spec) => spec.name);
  // NATS permits a service only its own listed durables: an unlisted one would fail at its first fetch.
  if (unlisted.length > 0) throw new Error(`consumers ${unlisted.join(', ')} are not ${def.name}'s in DURABLE_CONSUMERS (events/catalog.ts)`);
  const consumers = specs.map(
    (spec) =>
      new EventConsumer(spec, {
        db: db as Kysely<any>,
        js,
        jsm,
        stream,
        prefix: config.eventsPrefix,
        logger,
        service: def.name,
        signer,
        verifier,
        ackWaitMs: config.ackWaitMs,
        databaseUrl: config.databaseUrl,
      }),
  );
  for (const consumer of consumers) await consumer.start();

  let shuttingDown = false;
  const production = config.production ?? false;
  const healthReportMs = config.healthReportMs ?? 5000;
  const resolvers: ResolverMap = { ...def.resolvers(deps) };
  const finders = def.subjectFinders?.(deps) ?? {};
  if (def.opsView) {
    const view = new OpsView({ nc, js, jsm, prefix: config.eventsPrefix, stream, connected: connection.connected, staleAfterMs: 3 * healthReportMs, replicas });
    const ops = opsResolvers(view);
    resolvers.Query = { ...resolvers.Query, ...ops.Query };
    resolvers.Mutation = { ...resolvers.Mutation, ...ops.Mutation };
  }
  const schema = guardArguments(
    // Each service checked its map against its generated `Resolvers` (`satisfies`); Apollo's type is looser.
    buildSubgraphSchema([{ typeDefs: def.typeDefs, resolvers: resolvers as GraphQLResolverMap<unknown> }]),
    def.opsView
      ? {
          ...def.argumentRules,
          ids: { ...def.argumentRules?.ids, ...OPS_ARGUMENT_IDS },
          texts: { ...def.argumentRules?.texts, ...OPS_ARGUMENT_TEXTS },
          pageMaxima: { ...def.argumentRules?.pageMaxima, ...OPS_PAGE_MAXIMA },
        }
      : def.argumentRules,
    // The one authorization of a root field: its row's roles, a refusal recorded with its row's subject.
    (context, operation, args) => deps.guard.authorize(context as RequestScope, operation, () => subjectOfCall(operation, args, finders)),
  );
  const apollo = new ApolloServer<Ctx>({
    schema,
    formatError: (formatted, error) => maskInternal(formatted, error, logger),
    plugins: [timingPlugin(def.name), expandErrorsPlugin(), ApolloServerPluginInlineTraceDisabled()],
    introspection: !production,
    hideSchemaDetailsFromClientErrors: production,
    logger: apolloLogger(logger),
    // Stack traces would show internals to clients; the logs have them.
    includeStacktraceInErrorResponses: false,
  });
  await apollo.start();

  const app = express();
  app.disable('x-powered-by');
  const metrics = await startMetrics(app, { production, metricsPort: config.metricsPort ?? null, host: config.host });
  const workers = def.workers?.(deps) ?? [];
  const checks: Record<string, () => Promise<void>> = {
    ...Object.fromEntries(workers.filter((w) => w.check && w.name).map((w) => [w.name!, () => w.check!()])),
    database: () => pingDb(db as Kysely<any>),
    nats: async () => {
      if (nc.isClosed()) throw new Error('closed');
      // While NATS is down a request would wait for the reconnect: not ready, at once.
      if (!connection.connected()) throw new Error('disconnected');
      await jsm.streams.info(stream);
    },
  };
  // The body also says whether this service's events are drained (never while a consumer is behind
  // or stopped); informational, it decides nothing.
  let reporterRef: HealthReporter | null = null;
  mountHealth(
    app,
    checks,
    () => shuttingDown,
    [],
    () => {
      const snapshot = reporterRef?.snapshot;
      if (!snapshot) return {};
      const consumersNow = snapshot.consumers.map((c) => ({ ...c, state: consumers.find((x) => x.name === c.name)?.state ?? c.state }));
      return {
        events: {
          drained: snapshot.outboxBacklog === 0 && consumersNow.every((c) => c.state !== 'stopped' && c.pending === 0 && c.ackPending === 0),
          outboxBacklog: snapshot.outboxBacklog,
          consumers: consumersNow,
          reportedAt: snapshot.reportedAt,
        },
      };
    },
  );
  // A span per GraphQL request, continuing the gateway's trace (only while tracing).
  if (tracingOn()) app.use('/graphql', traceRequests('/graphql'));
  app.use(
    '/graphql',
    jsonBody(),
    expressMiddleware(apollo, {
      context: async ({ req }) => {
        const scope = scopeFromRequest(actorTokens, def.name, req.headers[ACTOR_HEADER], req.headers['accept-language']);
        return def.context(deps, scope);
      },
    }),
  );
  app.use(httpErrorHandler(logger));
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(config.port, config.host, () => resolve(s));
  });
  const port = (server.address() as AddressInfo).port;
  const timers = (def.jobs?.(deps) ?? []).map((job) =>
    setInterval(() => {
      job.run().catch((err: unknown) => logger.error({ err: safeError(err), job: job.name }, 'job failed'));
    }, job.everyMs),
  );
  for (const worker of workers) worker.start();
  const reencryption =
    encryptedTables.length > 0 ? new FieldReencryption<DB>({ service: def.name, db: db as Kysely<any>, cipher, columns: def.encryptedColumns, logger }) : null;
  reencryption?.start();
  const ops = def.name as OpsService;
  const reporter = new HealthReporter({
    service: ops,
    instance: instanceId(),
    db: db as Kysely<any>,
    js,
    jsm,
    prefix: config.eventsPrefix,
    stream,
    consumers: () => consumers.map((c) => ({ name: c.name, state: c.state })),
    readiness: async () => {
      const results = await runChecks(checks);
      return { ready: !shuttingDown && Object.values(results).every((r) => r === 'ok'), checks: results };
    },
    relayListening: () => relay.isListening,
    fieldEncryption: reencryption ? () => fieldEncryptionState(db as Kysely<any>) : null,
    connected: connection.connected,
    intervalMs: healthReportMs,
    replicas,
    logger,
  });
  reporterRef = reporter;
  reporter.start();
  const responder = new OpsResponder({ nc, prefix: config.eventsPrefix, service: ops, db: db as Kysely<any>, consumers, actorTokens, logger });
  responder.start();
  logger.info({ port }, 'service started');

  return {
    name: def.name,
    url: `http://${config.host}:${port}/graphql`,
    port,
    db,
    async stop() {
      shuttingDown = true;
      timers.forEach(clearInterval);
      for (const worker of workers) await worker.stop();
      await reencryption?.stop();
      await responder.stop();
      await reporter.stop();
      // Drain: the requests in flight answered, then no more consuming, then the outbox flushed.
      await drainHttpServer(server);
      await metrics.stop();
      await apollo.stop();
      for (const consumer of consumers) await consumer.stop();
      await keeper.stop();
      await relay.stop();
      unregisterSigner();
      await handoffs.stop();
      await nc.drain().catch(() => undefined);
      await db.destroy();
      logger.info('service stopped');
    },
  };
}

/** The request's actor and facts, from the gateway's token for this subgraph (its audience is our name). */
function scopeFromRequest(tokens: ActorTokenVerifier, service: ServiceName, token: unknown, acceptLanguage: string | undefined): RequestScope {
  const locale = localeFromAcceptLanguage(acceptLanguage);
  if (typeof token !== 'string' || token.length === 0) throw new UnauthenticatedError(locale, 'auth.notViaGateway');
  try {
    return { ...tokens.verify(token, service), credential: token };
  } catch {
    throw new UnauthenticatedError(locale, 'auth.notViaGateway');
  }
}

/** Unexpected errors reach the client as a generic message: their text might hold personal data. */
function maskInternal(formatted: GraphQLFormattedError, error: unknown, logger: Logger): GraphQLFormattedError {
  const code = formatted.extensions?.code;
  if (code && code !== 'INTERNAL_SERVER_ERROR') return formatted;
  const original = (error as { originalError?: unknown })?.originalError ?? error;
  logger.error({ err: safeError(original) }, 'internal error');
  return { message: t('internal'), path: formatted.path, extensions: { code: 'INTERNAL_SERVER_ERROR' } };
}

/** `BadUserInputError.many`: one error per bad field in the response (see errors.ts). */
function expandErrorsPlugin(): ApolloServerPlugin<RequestScope> {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ response }) {
          if (response.body.kind !== 'single' || !response.body.singleResult.errors) return;
          response.body.singleResult.errors = response.body.singleResult.errors.flatMap((error) => {
            const also = error.extensions?.also;
            if (!Array.isArray(also)) return [error];
            const { also: _, ...extensions } = error.extensions ?? {};
            return [{ ...error, extensions }, ...also.map((e: GraphQLFormattedError) => ({ ...e, path: error.path, locations: error.locations }))];
          });
        },
      };
    },
  };
}

/** Apollo's own log lines go through the service's logger, with texts scrubbed of input. */
export function apolloLogger(logger: Logger) {
  const line = (level: 'debug' | 'info' | 'warn' | 'error') => (message?: unknown) =>
    logger[level]({ source: 'apollo' }, scrubText(message instanceof Error ? safeError(message).message : String(message ?? '')));
  return { debug: line('debug'), info: line('info'), warn: line('warn'), error: line('error') };
}

function timingPlugin(service: string): ApolloServerPlugin<RequestScope> {
  return {
    async requestDidStart() {
      const end = graphqlDuration.startTimer({ service });
      return {
        async willSendResponse() {
          end();
        },
      };
    },
  };
}
