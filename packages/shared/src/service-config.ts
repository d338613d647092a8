import { z } from 'zod';
import { SHUTDOWN_DEADLINE_MS } from './drain';
import { commonEnv, parseEnv, serviceEnv } from './env';
import type { ServiceConfig } from './runtime';
import { stopTracing } from './tracing';

/** Reads a service's configuration from the environment: the common models plus its own `extra`. */
export function serviceConfigFromEnv<E extends z.ZodType>(defaultPort: number, extra: E, source: NodeJS.ProcessEnv = process.env): ServiceConfig<z.infer<E>> {
  const env = parseEnv({ ...commonEnv, service: serviceEnv(defaultPort), extra }, source);
  return {
    port: env.service.PORT,
    host: env.service.HOST,
    databaseUrl: env.service.DATABASE_URL,
    migrationDatabaseUrl: env.service.MIGRATION_DATABASE_URL ?? null,
    dbPoolMax: env.service.DB_POOL_MAX,
    natsUrl: env.events.NATS_URL,
    eventsPrefix: env.events.EVENTS_PREFIX,
    actorVerifyKeys: env.security.ACTOR_VERIFY_KEYS,
    encryptionKeys: env.security.PD_ENCRYPTION_KEYS,
    blindIndexKey: env.security.BLIND_INDEX_KEY,
    eventSigningKey: env.signing.EVENT_SIGNING_KEY,
    eventVerifyKeys: env.signing.EVENT_VERIFY_KEYS,
    logLevel: env.logging.LOG_LEVEL,
    production: env.runtime.NODE_ENV === 'production',
    metricsPort: env.runtime.METRICS_PORT ?? null,
    eventsReplicas: env.events.EVENTS_REPLICAS,
    ackWaitMs: env.events.EVENTS_ACK_WAIT_SECONDS * 1000,
    healthReportMs: env.events.HEALTH_REPORT_MS,
    extra: env.extra,
  };
}

/**
 * A process's `main()`: config from the environment, start; exit 1 on bad config. On SIGTERM (the
 * image's STOPSIGNAL, what compose and Kubernetes send) or SIGINT it drains — `stop()` answers the
 * requests in flight, stops consuming, flushes the outbox, closes its connections — and exits 0; a
 * second signal while draining changes nothing. A drain that fails, or takes longer than
 * `deadlineMs` (25 s, under the orchestrators' 30 s grace), exits 1.
 */
export async function runMain(start: () => Promise<{ stop(): Promise<void> }>, deadlineMs = SHUTDOWN_DEADLINE_MS): Promise<void> {
  let running: { stop(): Promise<void> };
  try {
    running = await start();
  } catch (err) {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  }
  let draining = false;
  const shutdown = (signal: NodeJS.Signals) => {
    if (draining) return;
    draining = true;
    console.error(`${signal}: draining`);
    setTimeout(() => {
      console.error(`drain did not finish within ${deadlineMs / 1000} s; exiting`);
      process.exit(1);
    }, deadlineMs);
    running
      .stop()
      // The spans still buffered are sent before the process goes.
      .then(() => stopTracing())
      .then(
        () => process.exit(0),
        (err: unknown) => {
          console.error(`drain failed: ${err instanceof Error ? err.message : String(err)}`);
          process.exit(1);
        },
      );
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
}
