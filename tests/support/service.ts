/**
 * The service-level fixture: one service's application and repository functions, with real parts
 * (its PostgreSQL schema, field cipher, guard, outbox, event signer and JetStream streams), on a
 * database of its own cloned from a template migrated once per run. No HTTP server, no relay, no
 * consumers: a spec calls a rule where it lives and reads what it wrote, so it needs no polling.
 * What crosses services (events, hand-offs, receipts) is the end-to-end suite's (tests/e2e).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import {
  connectNats,
  createDb,
  createLogger,
  databaseUrl,
  ensureDatabase,
  ensureHandoffStream,
  ensureStream,
  EventSigner,
  EventVerifier,
  FieldCipher,
  Guard,
  Handoffs,
  migrateToLatest,
  natsInboxPrefix,
  registerEventSigner,
  type Actor,
  type EventType,
  type Locale,
  type RequestScope,
  type Role,
  type ServiceDefinition,
  type ServiceDeps,
  type ServiceName,
} from '@pdp/shared';
import type { JetStreamManager, NatsConnection } from 'nats';
import { isolatedServiceConfig } from '@pdp/shared/testing';
import { sql, type Kysely, type Migration } from 'kysely';
import pg from 'pg';
import { test as base } from 'vitest';
import { testEnv } from './env';

/** The databases this process already cloned its templates from, by template name. */
const templates = new Map<string, Promise<string>>();

/**
 * The name of `def`'s template database of this run, migrated to the latest schema. The first
 * worker to ask makes it, under an advisory lock (test files run in parallel processes); every later
 * ask, in any process, finds it made. It is dropped with the run's other databases (`dropRun`).
 */
export function templateDatabase(def: { name: ServiceName; migrations: Record<string, Migration> }): Promise<string> {
  const { serverUrl, runPrefix } = testEnv();
  const name = `${runPrefix}_tpl_${def.name}`;
  let made = templates.get(name);
  if (!made) {
    made = makeTemplate(serverUrl, name, def.migrations);
    templates.set(name, made);
  }
  return made;
}

async function makeTemplate(serverUrl: string, name: string, migrations: Record<string, Migration>): Promise<string> {
  const client = new pg.Client({ connectionString: databaseUrl(serverUrl, 'postgres') });
  await client.connect();
  try {
    await client.query('select pg_advisory_lock(hashtext($1))', [name]);
    const { rowCount } = await client.query('select 1 from pg_database where datname = $1', [name]);
    if (!rowCount) {
      // Made under a temporary name and renamed when migrated: a template is never half made.
      const building = `${name}_new`;
      await client.query(`drop database if exists ${building}`);
      await client.query(`create database ${building}`);
      const db = createDb<unknown>(databaseUrl(serverUrl, building), 1);
      try {
        await migrateToLatest(db as Kysely<any>, migrations);
      } finally {
        // CREATE DATABASE … TEMPLATE refuses a template anyone is connected to.
        await db.destroy();
      }
      await client.query(`alter database ${building} rename to ${name}`);
    }
    return name;
  } finally {
    await client.query('select pg_advisory_unlock(hashtext($1))', [name]).catch(() => undefined);
    await client.end();
  }
}

async function dropDatabase(serverUrl: string, name: string): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl(serverUrl, 'postgres') });
  await client.connect();
  try {
    await client.query(`drop database if exists ${name} with (force)`);
  } finally {
    await client.end();
  }
}

/** A service as its application functions see it, on a fresh clone of its template database. */
export interface ServiceUnderTest<DB, Extra> {
  deps: ServiceDeps<DB, Extra>;
  db: Kysely<DB>;
  /** The events its functions wrote to the outbox (of one type, when given), oldest first. */
  events<T extends EventType>(type?: T): Promise<Array<{ type: T; subjectId: string | null; actor: Actor; data: any }>>;
  stop(): Promise<void>;
}

/** A test file's connection to NATS and its own event and hand-off streams (one prefix per file). */
export interface FileStreams {
  nc: NatsConnection;
  jsm: JetStreamManager;
  prefix: string;
  stream: string;
  handoffStream: string;
  /** Clones being dropped while the next test runs; the file waits for them at its end. */
  drops: Promise<void>[];
}

let counter = 0;

function label(what: string): string {
  counter += 1;
  return `${testEnv().runPrefix}_${what}_${process.pid}_${counter}_${randomBytes(2).toString('hex')}`;
}

/** The streams of a test file: made once per file (a test's functions write only to its outbox). */
export async function fileStreams(service: ServiceName): Promise<FileStreams> {
  const prefix = label(service);
  const nc = await connectNats(testEnv().natsUrl, `pdp-${service}-test`, { inboxPrefix: natsInboxPrefix(service) });
  const jsm = await nc.jetstreamManager();
  return { nc, jsm, prefix, stream: await ensureStream(jsm, prefix), handoffStream: await ensureHandoffStream(jsm, prefix), drops: [] };
}

/**
 * `def`'s deps with real parts, on its own database cloned from the run's template, with the file's
 * streams; `extra` is the service's own settings. `init` (e.g. appeals' bootstrap grant) runs as the
 * service would run it before serving.
 */
export async function serviceUnderTest<DB, Extra>(
  def: ServiceDefinition<DB, Extra, any>,
  extra: Extra,
  streams: FileStreams,
): Promise<ServiceUnderTest<DB, Extra>> {
  const { serverUrl, natsUrl } = testEnv();
  const name = label(def.name);
  // The clone first: isolatedServiceConfig then finds its database made.
  const database = `${name}_db`;
  await ensureDatabase(serverUrl, database, await templateDatabase(def));
  const config = { ...(await isolatedServiceConfig(serverUrl, natsUrl, name, extra)), eventsPrefix: streams.prefix };
  const logger = createLogger(def.name, 'silent');
  const signer = EventSigner.fromKey(def.name, config.eventSigningKey);
  const verifier = EventVerifier.fromJson(config.eventVerifyKeys);
  const db = createDb<DB>(config.databaseUrl, 3);
  const handoffs = new Handoffs({ service: def.name, db: db as Kysely<any>, jsm: streams.jsm, prefix: streams.prefix, stream: streams.handoffStream, logger });
  const deps: ServiceDeps<DB, Extra> = {
    name: def.name,
    db,
    config,
    logger,
    guard: new Guard(db as Kysely<any>, streams.prefix, def.name),
    cipher: new FieldCipher<DB>(def.name, config.encryptionKeys),
    prefix: streams.prefix,
    handoffs,
    events: { js: streams.nc.jetstream(), jsm: streams.jsm, stream: streams.stream, signer, verifier },
    replicas: 1,
  };
  const unregister = registerEventSigner(streams.prefix, signer);
  await def.init?.(deps);
  return {
    deps,
    db,
    async events(type) {
      const rows = await (db as Kysely<any>).selectFrom('outbox').select('payload').orderBy('seq').execute();
      const all = rows.map((r) => (typeof r.payload === 'string' ? JSON.parse(r.payload) : r.payload));
      return type ? all.filter((e) => e.type === type) : all;
    },
    async stop() {
      unregister();
      await handoffs.stop();
      await db.destroy();
      // Dropped now rather than with the run: a clone is ~8 MB, and a run makes a hundred or more.
      // One that fails is left to the run's teardown (dropRun drops everything under the run's prefix).
      streams.drops.push(dropDatabase(serverUrl, database).catch(() => undefined));
    },
  };
}

/** A request's scope as the gateway's token gives it: `actor`, in `locale`. */
export function scopeOf(actor: Actor, locale: Locale = 'RU'): RequestScope {
  return { actor, meta: { requestId: randomUUID(), locale, ip: '127.0.0.1', userAgent: 'service-test' } };
}

/** The subject is blocked in this holder, as the holder protocol records a block (6.1.3). */
export async function blockSubject(db: Kysely<any>, subjectId: string): Promise<void> {
  await sql`insert into blocked_subjects (subject_id, blocked_at) values (${subjectId}, now())`.execute(db);
}

/** Staff actors as the access registry grants them (one role each). */
export const staff = (role: Role, id = `${role.toLowerCase()}-${randomBytes(2).toString('hex')}`): Actor => ({
  id,
  roles: [role],
  creditorId: null,
});

/**
 * The one fixture style of the service specs: `service` is `def` on a fresh clone of its template,
 * made for each test and dropped after it, so no test sees another's rows and order never matters. The file's tests share one NATS connection and stream prefix.
 * `extra` gives the service's own settings (keys, calendar, terms).
 */
export function serviceTest<DB, Extra>(def: ServiceDefinition<DB, Extra, any>, extra: () => Extra | Promise<Extra>) {
  return base.extend<{ streams: FileStreams; service: ServiceUnderTest<DB, Extra> }>({
    streams: [
      async ({}, use) => {
        const streams = await fileStreams(def.name);
        try {
          await use(streams);
        } finally {
          await Promise.all(streams.drops);
          await streams.nc.drain().catch(() => undefined);
        }
      },
      { scope: 'file' },
    ],
    service: async ({ streams }, use) => {
      const service = await serviceUnderTest(def, await extra(), streams);
      try {
        await use(service);
      } finally {
        await service.stop();
      }
    },
  });
}

export { expect } from 'vitest';
