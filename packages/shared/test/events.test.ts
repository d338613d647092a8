import { randomBytes } from 'node:crypto';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { connect, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  EventConsumer,
  EventSigner,
  EventVerifier,
  NotReadyError,
  OutboxRelay,
  createDb,
  createLogger,
  ensureDatabase,
  ensureStream,
  enqueueEvent,
  generateEventKeyPair,
  migrateToLatest,
  natsSubject,
  registerEventSigner,
  generateSealKeyPair,
  handoffMessage,
  handoffSubject,
  Handoffs,
  sealHandoff,
  type Envelope,
  type PlatformTables,
} from '../src';
import type { JetStreamManager } from 'nats';
import { z } from 'zod';
import { eventually } from '../src/testing';

const actor = { id: 'tester', roles: ['OPS'] };
const logger = createLogger('test', 'silent');
// subjects produces the events; audit consumes them (and signs what it rejects).
const keys = { subjects: generateEventKeyPair(), audit: generateEventKeyPair() };
const subjectsSigner = EventSigner.fromKey('subjects', keys.subjects.privateJwk);
const auditSigner = EventSigner.fromKey('audit', keys.audit.privateJwk);
const verifier = EventVerifier.fromJson(
  JSON.stringify({
    subjects: JSON.parse(keys.subjects.publicJwk),
    appeals: JSON.parse(generateEventKeyPair().publicJwk),
    consents: JSON.parse(generateEventKeyPair().publicJwk),
    audit: JSON.parse(keys.audit.publicJwk),
  }),
);

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
    unregister = registerEventSigner(prefix, subjectsSigner);
  });
  let unregister: () => void;
  afterAll(async () => {
    unregister();
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
          await trx
            .insertInto('effects' as never)
            .values({ event_id: event.id } as never)
            .execute();
        },
      },
      { db, js: nc.jetstream(), jsm: await nc.jetstreamManager(), stream, prefix, logger, maxAttempts, service: 'audit', signer: auditSigner, verifier },
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
    const envelope = subjectsSigner.sign({
      id,
      type: 'subject.blocked',
      version: 1,
      occurredAt: new Date().toISOString(),
      source: 'subjects',
      actor,
      subjectId: null,
      correlationId: null,
      data: { subjectId: crypto.randomUUID() },
    } as Envelope);
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
    const c = await consumer(
      'test-retry',
      async () => {
        calls += 1;
        if (calls < 3) throw new NotReadyError('not yet');
      },
      10,
    );
    const event = await enqueueEvent(db, prefix, { type: 'subject.blocked', source: 'subjects', actor, data: { subjectId: crypto.randomUUID() } });
    await nc.jetstream().publish(natsSubject(prefix, 'subject.blocked'), JSON.stringify(event), { msgID: event.id });
    await c.start();
    await eventually(async () => (await effectsOf(event.id)) === 1, 10_000, 'retried event applied');
    expect(calls).toBeGreaterThanOrEqual(3);
    await c.stop();
  });

  it('parks a poison message where ops can see it, and goes on', async () => {
    const c = await consumer(
      'test-poison',
      async (event) => {
        if ((event.data as { subjectId: string }).subjectId === '00000000-0000-4000-8000-000000000000') throw new Error('cannot apply');
      },
      2,
    );
    await c.start();
    const js = nc.jetstream();
    await js.publish(natsSubject(prefix, 'subject.blocked'), 'not json at all');
    const bad = await enqueueEvent(db, prefix, {
      type: 'subject.blocked',
      source: 'subjects',
      actor,
      data: { subjectId: '00000000-0000-4000-8000-000000000000' },
    });
    await js.publish(natsSubject(prefix, 'subject.blocked'), JSON.stringify(bad));
    const good = await enqueueEvent(db, prefix, { type: 'subject.blocked', source: 'subjects', actor, data: { subjectId: crypto.randomUUID() } });
    await js.publish(natsSubject(prefix, 'subject.blocked'), JSON.stringify(good));
    await eventually(async () => (await effectsOf(good.id)) === 1, 10_000, 'good event after poison');
    const parked = await eventually(
      async () => {
        const rows = await db.selectFrom('parked_events').selectAll().where('consumer', '=', 'test-poison').execute();
        return rows.length === 2 ? rows : undefined;
      },
      10_000,
      'two parked messages',
    );
    expect(parked.map((p) => p.event_id).sort()).toEqual([bad.id, null].sort());
    expect(await effectsOf(bad.id)).toBe(0);
    await c.stop();
  });

  it('refuses forged and altered events before the handler: parked, no inbox row, one signed event.rejected each', async () => {
    // The consumer reads the stream from its start: only this test's events count.
    const ids = new Set<string>();
    let calls = 0;
    const c = await consumer('test-forgery', async (event) => {
      if (ids.has(event.id)) calls += 1;
    });
    const js = nc.jetstream();
    const subject = natsSubject(prefix, 'subject.blocked');
    const genuine = await enqueueEvent(db, prefix, { type: 'subject.blocked', source: 'subjects', actor, data: { subjectId: crypto.randomUUID() } });
    const { signature: _, ...unsigned } = { ...genuine, id: crypto.randomUUID() };
    const altered = { ...genuine, data: { subjectId: crypto.randomUUID() } };
    const otherKey = EventSigner.fromKey('subjects', generateEventKeyPair().privateJwk).sign({ ...unsigned, id: crypto.randomUUID() });
    for (const e of [genuine, unsigned, otherKey]) ids.add(e.id);
    await c.start();
    for (const forged of [unsigned, altered, otherKey]) await js.publish(subject, JSON.stringify(forged));
    await js.publish(subject, JSON.stringify(genuine));
    await eventually(async () => (await effectsOf(genuine.id)) === 1, 10_000, 'the genuine event applied');
    expect(calls).toBe(1);
    const parked = await db
      .selectFrom('parked_events')
      .select(['event_id', 'error'])
      .where('consumer', '=', 'test-forgery')
      .where('event_id', 'in', [...ids])
      .orderBy('id')
      .execute();
    expect(parked).toEqual([
      { event_id: unsigned.id, error: 'EventRejected: UNSIGNED' },
      { event_id: genuine.id, error: 'EventRejected: BAD_SIGNATURE' },
      { event_id: otherKey.id, error: 'EventRejected: BAD_SIGNATURE' },
    ]);
    // The altered copy shares the genuine id, yet left no inbox row that could hide the genuine event.
    expect(
      await db
        .selectFrom('inbox')
        .select('event_id')
        .where('consumer', '=', 'test-forgery')
        .where('event_id', 'in', [...ids])
        .execute(),
    ).toEqual([{ event_id: genuine.id }]);
    const rejected = await db
      .selectFrom('outbox')
      .select(['subject', 'payload'])
      .where('subject', '=', natsSubject(prefix, 'event.rejected'))
      .orderBy('seq')
      .execute();
    const records = rejected.map((r) => r.payload as Envelope<'event.rejected'> & { signature: string }).filter((r) => ids.has(r.data.eventId ?? ''));
    expect(records.map((r) => r.data)).toEqual([
      { consumer: 'test-forgery', eventId: unsigned.id, type: 'subject.blocked', claimedSource: 'subjects', reason: 'UNSIGNED' },
      { consumer: 'test-forgery', eventId: genuine.id, type: 'subject.blocked', claimedSource: 'subjects', reason: 'BAD_SIGNATURE' },
      { consumer: 'test-forgery', eventId: otherKey.id, type: 'subject.blocked', claimedSource: 'subjects', reason: 'BAD_SIGNATURE' },
    ]);
    for (const record of records) {
      expect(record.source).toBe('audit');
      expect(verifier.check(record, record, natsSubject(prefix, 'event.rejected'), prefix)).toBeNull();
    }
    await c.stop();
  });

  it("a consumer of several types acks other types unread, and refuses a body whose type is not its subject's", async () => {
    const applied: string[] = [];
    const c = new EventConsumer(
      {
        name: 'test-several',
        types: ['subject.blocked', 'subject.unblocked'], // two types: it reads the whole stream
        handle: async (_trx, event) => void applied.push(event.id),
      },
      { db, js: nc.jetstream(), jsm: await nc.jetstreamManager(), stream, prefix, logger, maxAttempts: 3, service: 'audit', signer: auditSigner, verifier },
    );
    await c.start();
    const js = nc.jetstream();
    // Another type's subject: not parsed, not parked — even when it is garbage (its own consumers judge it).
    await js.publish(natsSubject(prefix, 'consent.recorded'), 'not json, and not this consumer’s business');
    // A genuine, signed subject.unblocked published under subject.blocked: refused, parked, never applied.
    const misfiled = await enqueueEvent(db, prefix, { type: 'subject.unblocked', source: 'subjects', actor, data: { subjectId: crypto.randomUUID() } });
    await js.publish(natsSubject(prefix, 'subject.blocked'), JSON.stringify(misfiled));
    // And one of a type it does not take at all, under a subject it does: refused too, not skipped unseen.
    const smuggled = await enqueueEvent(db, prefix, { type: 'erasure.rejected', source: 'subjects', actor, data: { actId: crypto.randomUUID() } });
    await js.publish(natsSubject(prefix, 'subject.unblocked'), JSON.stringify(smuggled));
    const genuine = await enqueueEvent(db, prefix, { type: 'subject.blocked', source: 'subjects', actor, data: { subjectId: crypto.randomUUID() } });
    await js.publish(natsSubject(prefix, 'subject.blocked'), JSON.stringify(genuine));
    await eventually(async () => applied.includes(genuine.id), 10_000, 'the genuine event applied');
    const parked = await eventually(
      async () => {
        const rows = await db.selectFrom('parked_events').select(['event_id', 'error', 'subject']).where('consumer', '=', 'test-several').execute();
        return rows.some((r) => r.event_id === misfiled.id) && rows.some((r) => r.event_id === smuggled.id) ? rows : undefined;
      },
      10_000,
      'the misfiled events parked',
    );
    expect(parked.filter((r) => r.event_id === misfiled.id || r.event_id === smuggled.id)).toEqual([
      { event_id: misfiled.id, error: 'EventRejected: WRONG_SUBJECT', subject: natsSubject(prefix, 'subject.blocked') },
      { event_id: smuggled.id, error: 'EventRejected: WRONG_SUBJECT', subject: natsSubject(prefix, 'subject.unblocked') },
    ]);
    expect(parked.filter((r) => r.subject === natsSubject(prefix, 'consent.recorded'))).toEqual([]);
    expect(applied).not.toContain(misfiled.id);
    await c.stop();
  });

  it('the relay publishes each commit in one transaction: no empty one after every batch', async () => {
    // The relay's own connection, counting the statements it sends.
    const statements: string[] = [];
    const counted = new Kysely<PlatformTables>({
      dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: databaseUrl, max: 2 }) }),
      log: (e) => void (e.level === 'query' && statements.push(e.query.sql)),
    });
    const relay = new OutboxRelay({ db: counted, databaseUrl, js: nc.jetstream(), logger, service: 'subjects', pollMs: 60_000 });
    await eventually(
      async () => (await db.selectFrom('outbox').select('id').where('published_at', 'is', null).execute()).length === 0 || undefined,
      1000,
    ).catch(() => undefined);
    await relay.start();
    const published = async (id: string) => (await db.selectFrom('outbox').select('published_at').where('id', '=', id).executeTakeFirst())?.published_at;
    // Whatever earlier tests left unpublished goes out first; then one commit at a time.
    await eventually(async () => (await db.selectFrom('outbox').select('id').where('published_at', 'is', null).execute()).length === 0);
    await new Promise((r) => setTimeout(r, 200));
    statements.length = 0;
    for (let i = 0; i < 3; i += 1) {
      const event = await enqueueEvent(db, prefix, { type: 'subject.blocked', source: 'subjects', actor, data: { subjectId: crypto.randomUUID() } });
      await eventually(() => published(event.id));
      await new Promise((r) => setTimeout(r, 150));
    }
    await relay.stop();
    await counted.destroy();
    // One read of the outbox per commit (the advisory lock taken in the same statement), one update;
    // not an empty read after every batch (that would be 6). A commit's NOTIFY that arrives while a
    // batch is in flight may cost one more read (the relay cannot know that batch already saw the row).
    const reads = statements.filter((q) => /from "outbox"/.test(q) && q.startsWith('select')).length;
    expect(reads).toBeGreaterThanOrEqual(3);
    expect(reads).toBeLessThan(6);
    expect(statements.filter((q) => q.startsWith('update "outbox"'))).toHaveLength(3);
    expect(statements.filter((q) => /pg_try_advisory_xact_lock/.test(q) && !/from "outbox"/.test(q))).toHaveLength(0);
  });

  it('applies events already waiting in one transaction, and a failing one alone, retried', async () => {
    let flaky: string | null = null;
    const c = new EventConsumer(
      {
        name: 'test-batch',
        // A type whose order does not matter: an ordered consumer has one message out at a time.
        types: ['subject.registered'],
        handle: async (trx, event) => {
          if (event.id === flaky) {
            flaky = null;
            throw new NotReadyError('not yet');
          }
          await trx
            .insertInto('effects' as never)
            .values({ event_id: event.id } as never)
            .execute();
        },
      },
      { db, js: nc.jetstream(), jsm: await nc.jetstreamManager(), stream, prefix, logger, maxAttempts: 5, service: 'audit', signer: auditSigner, verifier },
    );
    // Events already waiting when the consumer starts, published as a relay would.
    const waiting = async (n: number) => {
      const events = await Promise.all(
        Array.from({ length: n }, () =>
          enqueueEvent(db, prefix, {
            type: 'subject.registered',
            source: 'subjects',
            actor,
            data: { subjectId: crypto.randomUUID(), category: 'APPLICANT', source: 'WEB_FORM_ANNEX_3', purposes: ['APPEAL_HANDLING'] },
          }),
        ),
      );
      for (const e of events) await nc.jetstream().publish(natsSubject(prefix, 'subject.registered'), JSON.stringify(e), { msgID: `batch-${e.id}` });
      return events.map((e) => e.id);
    };
    // The transaction that wrote each effect row (its xmin): committed ones only.
    const writers = async (ids: string[]) =>
      (
        await sql<{ event_id: string; writer: string }>`select event_id::text, xmin::text as writer from effects where event_id = any(${ids}::uuid[])`.execute(
          db,
        )
      ).rows;

    const first = await waiting(20);
    await c.start();
    await eventually(async () => (await writers(first)).length === 20, 10_000, 'the first 20 applied');
    expect(new Set((await writers(first)).map((r) => r.writer)).size).toBeLessThan(5);
    await c.stop();

    // A batch with an event that fails once: the batch rolls back, its events go one by one, the
    // failing one is retried and applied; each exactly once, nothing parked.
    const second = await waiting(10);
    flaky = second[4]!;
    await c.start();
    await eventually(async () => (await writers(second)).length === 10, 10_000, 'the second 10 applied');
    await c.stop();
    expect(flaky).toBeNull();
    for (const id of [...first, ...second]) expect(await effectsOf(id)).toBe(1);
    // (The stream holds earlier tests' misfiled events too; none of these is parked.)
    expect(
      await db
        .selectFrom('parked_events')
        .select('error')
        .where('consumer', '=', 'test-batch')
        .where('event_id', 'in', [...first, ...second])
        .execute(),
    ).toEqual([]);
  });

  it('erases a hand-off it read only while that hand-off is still at its sequence number', async () => {
    // A NATS server that lost its last writes in a crash gives their sequence numbers to new
    // messages: a removal waiting out the outage must not erase whatever took the number.
    const recipient = await generateSealKeyPair();
    const sealed = await sealHandoff('subjects', crypto.randomUUID(), { iin: '900101300007' }, recipient.publicJwk);
    const subject = handoffSubject(prefix, 'subjects', sealed.ref.id);
    for (const [now, erased] of [
      [subject, true],
      [`${prefix}.handoff.subjects.${crypto.randomUUID()}`, false],
    ] as const) {
      const deleted: number[] = [];
      const jsm = {
        streams: {
          getMessage: async (_: string, q: { seq?: number; last_by_subj?: string }) =>
            q.last_by_subj ? { seq: 7, data: new TextEncoder().encode(JSON.stringify(handoffMessage(sealed))) } : { seq: 7, subject: now },
          deleteMessage: async (_: string, seq: number) => void deleted.push(seq),
        },
      } as unknown as JetStreamManager;
      const handoffs = new Handoffs({ service: 'subjects', db, jsm, prefix, stream: 'unused', logger });
      const opened = await db.transaction().execute((trx) => handoffs.open(trx, sealed.ref, recipient.privateJwk, z.object({ iin: z.string() })));
      expect(opened).toEqual({ iin: '900101300007' });
      await handoffs.stop();
      expect(deleted).toEqual(erased ? [7] : []);
    }
  });
});
