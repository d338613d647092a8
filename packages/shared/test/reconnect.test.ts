import { randomBytes } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import { connect, type NatsConnection } from 'nats';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  createDb,
  createLogger,
  ensureDatabase,
  ensureStream,
  enqueueEvent,
  EventSigner,
  generateEventKeyPair,
  isTransient,
  migrateToLatest,
  OutboxRelay,
  registerEventSigner,
  runChecks,
  type PlatformTables,
} from '../src';
import { eventually } from '../src/testing';

const logger = createLogger('test', 'silent');

/** Ends the sessions of this test's database that match (never the server): by application name, or the listener. */
async function terminate(databaseUrl: string, applicationName: string | 'LISTEN'): Promise<number> {
  const admin = new pg.Client({ connectionString: databaseUrl });
  await admin.connect();
  try {
    const { rowCount } = await admin.query(
      applicationName === 'LISTEN'
        ? "select pg_terminate_backend(pid) from pg_stat_activity where datname = current_database() and query ilike 'listen %' and pid <> pg_backend_pid()"
        : 'select pg_terminate_backend(pid) from pg_stat_activity where datname = current_database() and application_name = $1 and pid <> pg_backend_pid()',
      applicationName === 'LISTEN' ? [] : [applicationName],
    );
    return rowCount ?? 0;
  } finally {
    await admin.end();
  }
}

describe('surviving a database restart', () => {
  const prefix = `${inject('runPrefix')}_reconnect_${randomBytes(2).toString('hex')}`;
  let databaseUrl: string;
  let db: Kysely<PlatformTables>;
  let nc: NatsConnection;

  beforeAll(async () => {
    databaseUrl = await ensureDatabase(inject('serverUrl'), `${prefix}_db`);
    db = createDb(databaseUrl, 4);
    await migrateToLatest(db, {});
    nc = await connect({ servers: inject('natsUrl') });
    await ensureStream(await nc.jetstreamManager(), prefix);
  });
  afterAll(async () => {
    await db.destroy();
    await nc.close();
  });

  it('a pooled connection that dies while checked out fails its query and does not take the process down', async () => {
    // A transaction waiting on something else (a publish, an unseal) when its session ends.
    const tx = db.transaction().execute(async (trx) => {
      await sql`select 1`.execute(trx);
      await terminate(databaseUrl, 'pdp');
      await new Promise((r) => setTimeout(r, 300));
      await sql`select 1`.execute(trx);
    });
    await expect(tx).rejects.toThrow();
    // The pool goes on with new connections (an unhandled 'error' event would have ended this process).
    expect((await sql<{ n: number }>`select 1 as n`.execute(db)).rows[0]!.n).toBe(1);
  });

  it('the outbox relay subscribes (LISTEN) again after losing its connection, and is woken by commits, not its poll', async () => {
    const keys = generateEventKeyPair();
    const unregister = registerEventSigner(prefix, EventSigner.fromKey('subjects', keys.privateJwk));
    // A poll this slow would never publish within the test: only a NOTIFY can.
    const relay = new OutboxRelay({ db, databaseUrl, js: nc.jetstream(), logger, service: 'subjects', pollMs: 120_000, relistenMs: 50 });
    await relay.start();
    try {
      expect(relay.isListening).toBe(true);
      expect(await terminate(databaseUrl, 'LISTEN')).toBe(1);
      // Back within its first pauses (50 ms, doubling).
      await new Promise((r) => setTimeout(r, 1500));
      const event = await enqueueEvent(db, prefix, {
        type: 'subject.blocked',
        source: 'subjects',
        actor: { id: 'tester', roles: ['OPS'] },
        data: { subjectId: crypto.randomUUID() },
      });
      await eventually(
        async () => {
          const row = await db.selectFrom('outbox').select('published_at').where('id', '=', event.id).executeTakeFirst();
          return row?.published_at;
        },
        5000,
        'published on NOTIFY',
      );
    } finally {
      await relay.stop();
      unregister();
    }
  });

  it('connection failures are transient (retried, never parked); a bad event is not', () => {
    expect(isTransient(Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' }))).toBe(true);
    expect(isTransient(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }))).toBe(true);
    expect(isTransient(new Error('Connection terminated unexpectedly'))).toBe(true);
    expect(isTransient(Object.assign(new Error('TIMEOUT'), { name: 'NatsError', code: 'TIMEOUT' }))).toBe(true);
    expect(isTransient(Object.assign(new Error('duplicate key'), { code: '23505' }))).toBe(false);
    expect(isTransient(new Error('bad data'))).toBe(false);
  });

  it('a readiness check that hangs answers "timeout" within the readiness deadline', async () => {
    const began = Date.now();
    const results = await runChecks({ hangs: () => new Promise(() => undefined), ok: async () => undefined });
    expect(results).toEqual({ hangs: 'timeout', ok: 'ok' });
    expect(Date.now() - began).toBeLessThan(1000);
  });
});
