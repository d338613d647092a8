import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import { connect, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  EventConsumer,
  NotReadyError,
  OutboxRelay,
  createDb,
  createLogger,
  ensureDatabase,
  ensureStream,
  enqueueEvent,
  migrateToLatest,
  natsSubject,
  type Envelope,
  type PlatformTables,
} from '../src';
import { eventually } from '../src/testing';

const actor = { id: 'tester', roles: ['OPS'] };
const logger = createLogger('test', 'silent');

describe('event platform on real PostgreSQL and JetStream', () => {
  const prefix = `${inject('runPrefix')}_events_${randomBytes(2).toString('hex')}`;
  let db: Kysely<PlatformTables & { effects: { event_id: string } }>;
  let databaseUrl: string;
  let nc: NatsConnection;
  let stream: string;

  beforeAll(async () => {
    databaseUrl = await ensureDatabase(inject('serverUrl'), `${prefix}_db`);
    db = createDb(databaseUrl, 4);
    await migrateToLatest(db, {
      '2026_test_effects': { up: async (d) => void (await d.schema.createTable('effects').addColumn('event_id', 'uuid').execute()) },
    });
    nc = await connect({ servers: inject('natsUrl') });
    stream = await ensureStream(await nc.jetstreamManager(), prefix);
  });
  afterAll(async () => {
    await db.destroy();
    await nc.close();
  });

  async function consumer(name: string, handle: (event: Envelope) => Promise<void>, maxAttempts = 3) {
    return new EventConsumer(
      {
        name,
        types: ['subject.blocked'],
        handle: async (trx, event) => {
          await handle(event);
          await trx.insertInto('effects' as never).values({ event_id: event.id } as never).execute();
        },
      },
      { db, js: nc.jetstream(), jsm: await nc.jetstreamManager(), stream, prefix, logger, maxAttempts },
    );
  }

  async function effectsOf(id: string) {
    return (await db.selectFrom('effects').selectAll().where('event_id', '=', id).execute()).length;
  }

  it('relays outbox rows to JetStream once, with msgID = event id', async () => {
    const relay = new OutboxRelay({ db, databaseUrl, js: nc.jetstream(), logger, service: 'subjects' });
    const event = await enqueueEvent(db, prefix, { type: 'subject.blocked', source: 'subjects', actor, data: { subjectId: crypto.randomUUID() } });
    await relay.start();
    await eventually(async () => (await db.selectFrom('outbox').select('published_at').where('id', '=', event.id).executeTakeFirst())?.published_at);
    await relay.stop();
    const jsm = await nc.jetstreamManager();
    const msg = await jsm.streams.getMessage(stream, { last_by_subj: natsSubject(prefix, 'subject.blocked') });
    expect(msg.header.get('Nats-Msg-Id')).toBe(event.id);
    expect(JSON.parse(new TextDecoder().decode(msg.data)).id).toBe(event.id);
    // A relay crash after publishing but before marking: the stream dedups the retry by msgID.
    const before = (await jsm.streams.info(stream)).state.messages;
    await nc.jetstream().publish(natsSubject(prefix, 'subject.blocked'), msg.data, { msgID: event.id });
    expect((await jsm.streams.info(stream)).state.messages).toBe(before);
  });

  it('applies a duplicated event once, thanks to the inbox', async () => {
    const js = nc.jetstream();
    const id = crypto.randomUUID();
    const envelope = { id, type: 'subject.blocked', version: 1, occurredAt: new Date().toISOString(), source: 'subjects', actor, subjectId: null, correlationId: null, data: { subjectId: crypto.randomUUID() } };
    const c = await consumer('test-dedup', async () => undefined);
    await c.start();
    // Same event under two message ids: JetStream delivers both, the inbox keeps the effect single.
    await js.publish(natsSubject(prefix, 'subject.blocked'), JSON.stringify(envelope), { msgID: `${id}-a` });
    await js.publish(natsSubject(prefix, 'subject.blocked'), JSON.stringify(envelope), { msgID: `${id}-b` });
    await eventually(async () => (await effectsOf(id)) === 1);
    await new Promise((r) => setTimeout(r, 300));
    expect(await effectsOf(id)).toBe(1);
    await c.stop();
  });

  it('retries a failing handler with backoff and applies it once it succeeds', async () => {
    let calls = 0;
    const c = await consumer('test-retry', async () => {
      calls += 1;
      if (calls < 3) throw new NotReadyError('not yet');
    }, 10);
    const event = await enqueueEvent(db, prefix, { type: 'subject.blocked', source: 'subjects', actor, data: { subjectId: crypto.randomUUID() } });
    await nc.jetstream().publish(natsSubject(prefix, 'subject.blocked'), JSON.stringify(event), { msgID: event.id });
    await c.start();
    await eventually(async () => (await effectsOf(event.id)) === 1, 10_000, 'retried event applied');
    expect(calls).toBeGreaterThanOrEqual(3);
    await c.stop();
  });

  it('parks a poison message where ops can see it, and goes on', async () => {
    const c = await consumer('test-poison', async (event) => {
      if ((event.data as { subjectId: string }).subjectId === '00000000-0000-4000-8000-000000000000') throw new Error('cannot apply');
    }, 2);
    await c.start();
    const js = nc.jetstream();
    await js.publish(natsSubject(prefix, 'subject.blocked'), 'not json at all');
    const bad = await enqueueEvent(db, prefix, { type: 'subject.blocked', source: 'subjects', actor, data: { subjectId: '00000000-0000-4000-8000-000000000000' } });
    await js.publish(natsSubject(prefix, 'subject.blocked'), JSON.stringify(bad));
    const good = await enqueueEvent(db, prefix, { type: 'subject.blocked', source: 'subjects', actor, data: { subjectId: crypto.randomUUID() } });
    await js.publish(natsSubject(prefix, 'subject.blocked'), JSON.stringify(good));
    await eventually(async () => (await effectsOf(good.id)) === 1, 10_000, 'good event after poison');
    const parked = await eventually(async () => {
      const rows = await db.selectFrom('parked_events').selectAll().where('consumer', '=', 'test-poison').execute();
      return rows.length === 2 ? rows : undefined;
    }, 10_000, 'two parked messages');
    expect(parked.map((p) => p.event_id).sort()).toEqual([bad.id, null].sort());
    expect(await effectsOf(bad.id)).toBe(0);
    await c.stop();
  });
});
