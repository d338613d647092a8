import { z } from 'zod';
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

/** A service's `main()`: config from the environment, start, stop on SIGTERM/SIGINT; exit 1 on bad config. */
export async function runMain(start: () => Promise<{ stop(): Promise<void> }>): Promise<void> {
  let running: { stop(): Promise<void> };
  try {
    running = await start();
  } catch (err) {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  }
  const shutdown = async () => {
    await running.stop();
    // The spans still buffered are sent before the process goes.
    await stopTracing();
    process.exit(0);
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}
