/**
 * Issue 29 on real PostgreSQL and JetStream: what the producer keeps until it is safe to forget, and
 * sends again when the stream lost it; a recipient that finds a hand-off missing waits for it, one
 * that finds it erased stores nothing; a hand-off that comes after its event; a consumer whose
 * message loop ends is started again.
 */
import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import { connect, type JetStreamManager, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { z } from 'zod';
import {
  createDb,
  createLogger,
  ensureDatabase,
  ensureHandoffStream,
  ensureStream,
  enqueueEvent,
  enqueueHandoffs,
  EventConsumer,
  EventSigner,
  EventVerifier,
  generateEventKeyPair,
  generateSealKeyPair,
  handoffSubject,
  Handoffs,
  migrateToLatest,
  NotReadyError,
  OutboxKeeper,
  OutboxRelay,
  registerEventSigner,
  sealHandoff,
  type PlatformTables,
} from '../src';
import { eventually } from '../src/testing';

const actor = { id: 'tester', roles: ['OPS'] };
const logger = createLogger('test', 'silent');
const keys = { appeals: generateEventKeyPair(), subjects: generateEventKeyPair() };
const appealsSigner = EventSigner.fromKey('appeals', keys.appeals.privateJwk);
const subjectsSigner = EventSigner.fromKey('subjects', keys.subjects.privateJwk);
const verifier = EventVerifier.fromJson(
  JSON.stringify({
    subjects: JSON.parse(keys.subjects.publicJwk),
    appeals: JSON.parse(keys.appeals.publicJwk),
    consents: JSON.parse(generateEventKeyPair().publicJwk),
    audit: JSON.parse(generateEventKeyPair().publicJwk),
  }),
);
let recipient: Awaited<ReturnType<typeof generateSealKeyPair>>;
const identity = z.object({ iin: z.string() });

describe('durability: nothing acknowledged is lost', () => {
  const prefix = `${inject('runPrefix')}_dur_${randomBytes(2).toString('hex')}`;
  let db: Kysely<PlatformTables & { effects: { appeal_id: string; iin: string | null } }>;
  let databaseUrl: string;
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  let stream: string;
  let handoffStream: string;
  let relay: OutboxRelay;
  let keeper: OutboxKeeper;
  let unregister: () => void;

  beforeAll(async () => {
    recipient = await generateSealKeyPair();
    databaseUrl = await ensureDatabase(inject('serverUrl'), `${prefix}_db`);
    db = createDb(databaseUrl, 4);
    await migrateToLatest(db, {
      '2026_test_effects': {
        up: async (d) => void (await d.schema.createTable('effects').addColumn('appeal_id', 'uuid').addColumn('iin', 'text').execute()),
      },
    });
    nc = await connect({ servers: inject('natsUrl') });
    jsm = await nc.jetstreamManager();
    stream = await ensureStream(jsm, prefix);
    handoffStream = await ensureHandoffStream(jsm, prefix);
    unregister = registerEventSigner(prefix, appealsSigner);
    relay = new OutboxRelay({ db, databaseUrl, js: nc.jetstream(), logger, service: 'appeals', pollMs: 200 });
    await relay.start();
    keeper = new OutboxKeeper({
      db,
      nc,
      jsm,
      prefix,
      stream,
      handoffStream,
      logger,
      service: 'appeals',
      kick: () => relay.kick(),
      everyMs: 60_000,
      handoffCheckAfterMs: 0,
    });
    keeper.start();
  });
  afterAll(async () => {
    await keeper?.stop();
    await relay?.stop();
    unregister?.();
    await db?.destroy();
    await nc?.close();
  });

  const handoffs = (service: 'appeals' | 'subjects') => new Handoffs({ service, db, jsm, js: nc.jetstream(), prefix, stream: handoffStream, logger });

  /** An intake as appeals writes it: the identity hand-off to subjects, then the event that refers to it. */
  async function submit(iin: string) {
    const appealId = crypto.randomUUID();
    const sealed = await sealHandoff('subjects', appealId, { iin }, recipient.publicJwk);
    const event = await db.transaction().execute(async (trx) => {
      await enqueueHandoffs(trx, prefix, [sealed]);
      return enqueueEvent(trx, prefix, {
        type: 'appeal.submitted',
        source: 'appeals',
        actor,
        data: {
          appealId,
          reference: `CMP-2026-${String(Math.floor(Math.random() * 999_999)).padStart(6, '0')}`,
          kind: 'APPEAL',
          channel: 'WEB',
          locale: 'RU',
          identity: sealed.ref,
          consent: {
            templateCode: 'ANNEX2_APPLICANT',
            givenAt: new Date().toISOString(),
            evidence: { to: 'consents', id: appealId, sha256: sealed.ref.sha256 },
          },
        },
      } as never);
    });
    return { appealId, event, subject: handoffSubject(prefix, 'subjects', appealId) };
  }

  const row = (subject: string) => db.selectFrom('outbox').selectAll().where('subject', '=', subject).executeTakeFirst();
  const published = async (subject: string) => (await row(subject))?.published_at != null;

  it('keeps a published hand-off (sealed) until the recipient confirms, sends it again when the stream lost it, forgets it on confirmation', async () => {
    const { appealId, subject } = await submit('900101300007');
    await eventually(() => published(subject), 10_000, 'hand-off published');
    const kept = await row(subject);
    expect(kept?.stream_seq).not.toBeNull();
    // Lost in a crash (here: removed behind the producer's back).
    const { seq } = await jsm.streams.getMessage(handoffStream, { last_by_subj: subject });
    await jsm.streams.deleteMessage(handoffStream, seq, true);
    await keeper.tick();
    await eventually(async () => (await row(subject))?.resends === 1 && (await published(subject)), 10_000, 'hand-off sent again');
    const again = await jsm.streams.getMessage(handoffStream, { last_by_subj: subject });
    expect(again.header.get('Nats-Msg-Id')).toBe(`${kept!.id}:1`);
    // The recipient's own event says it stored the value: the row goes, and the copy sent again.
    await db.transaction().execute((trx) => handoffs('appeals').settle(trx, 'subjects', appealId));
    expect(await row(subject)).toBeUndefined();
    await expect(jsm.streams.getMessage(handoffStream, { last_by_subj: subject })).rejects.toThrow();
  });

  it('sends again, in its place, an event the stream no longer has after NATS was away', async () => {
    const { event, subject } = await submit('900101300015');
    await eventually(async () => (await db.selectFrom('outbox').select('published_at').where('id', '=', event.id).executeTakeFirst())?.published_at != null);
    const before = await db.selectFrom('outbox').select(['stream_seq']).where('id', '=', event.id).executeTakeFirstOrThrow();
    await jsm.streams.deleteMessage(stream, Number(before.stream_seq), true);
    keeper.recheckSince(new Date(Date.now() - 60_000));
    await keeper.tick();
    await eventually(
      async () => {
        const r = await db.selectFrom('outbox').select(['published_at', 'resends', 'stream_seq']).where('id', '=', event.id).executeTakeFirst();
        return r?.resends === 1 && r.published_at !== null && r.stream_seq !== before.stream_seq;
      },
      10_000,
      'event sent again',
    );
    const after = await db.selectFrom('outbox').select(['stream_seq']).where('id', '=', event.id).executeTakeFirstOrThrow();
    const stored = await jsm.streams.getMessage(stream, { seq: Number(after.stream_seq) });
    expect(JSON.parse(new TextDecoder().decode(stored.data)).id).toBe(event.id);
    // A round with nothing lost changes nothing.
    keeper.recheckSince(new Date(Date.now() - 60_000));
    await keeper.tick();
    expect((await db.selectFrom('outbox').select('resends').where('id', '=', event.id).executeTakeFirstOrThrow()).resends).toBe(1);
    await db.transaction().execute((trx) => handoffs('appeals').settle(trx, 'subjects', subject.split('.').at(-1)!));
  });

  it('a recipient that finds a hand-off missing waits for it; one that finds it erased stores nothing; erasure removes kept rows', async () => {
    const subjects = handoffs('subjects');
    // Missing (never published here): not erased, so not "nothing" — wait for it.
    const missing = await sealHandoff('subjects', crypto.randomUUID(), { iin: '900101300023' }, recipient.publicJwk);
    await expect(
      db.transaction().execute((trx) => subjects.open(trx, missing.ref, recipient.privateJwk, identity, new Date().toISOString())),
    ).rejects.toBeInstanceOf(NotReadyError);
    // Older than the stream keeps anything: gone for good, nothing stored.
    const old = new Date(Date.now() - 8 * 24 * 3600_000).toISOString();
    expect(await db.transaction().execute((trx) => subjects.open(trx, missing.ref, recipient.privateJwk, identity, old))).toBeNull();
    // Erased: the marker says so, at once; the sender's kept row is gone too.
    const { appealId, subject } = await submit('900101300031');
    await eventually(() => published(subject), 10_000, 'hand-off published');
    const ref = (await subjectsRefOf(appealId))!;
    await db.transaction().execute((trx) => handoffs('appeals').erase(trx, [appealId]));
    expect(await row(subject)).toBeUndefined();
    expect(await db.transaction().execute((trx) => subjects.open(trx, ref, recipient.privateJwk, identity, new Date().toISOString()))).toBeNull();
    await subjects.stop();
  });

  async function subjectsRefOf(appealId: string) {
    const rows = await db.selectFrom('outbox').select('payload').where('subject', 'like', `${prefix}.events.%`).execute();
    const found = rows
      .map((r) => r.payload as { data: { appealId?: string; identity?: { to: 'subjects'; id: string; sha256: string } } })
      .find((p) => p.data.appealId === appealId);
    return found?.data.identity;
  }

  it('a hand-off that arrives after its event: the event waits (retried), then is applied once, with the value', async () => {
    const subjects = handoffs('subjects');
    const name = `dur-late-${randomBytes(2).toString('hex')}`;
    const c = new EventConsumer(
      {
        name,
        types: ['appeal.submitted'],
        handle: async (trx, event) => {
          const data = (event as { data: { appealId: string; identity: { to: 'subjects'; id: string; sha256: string } } }).data;
          const opened = await subjects.open(trx, data.identity, recipient.privateJwk, identity, event.occurredAt);
          await trx
            .insertInto('effects' as never)
            .values({ appeal_id: data.appealId, iin: opened?.iin ?? null } as never)
            .execute();
        },
      },
      { db, js: nc.jetstream(), jsm, stream, prefix, logger, service: 'subjects', signer: subjectsSigner, verifier },
    );
    await c.start();
    // The event alone first (its hand-off held back), then the hand-off.
    const appealId = crypto.randomUUID();
    const sealed = await sealHandoff('subjects', appealId, { iin: '900101300049' }, recipient.publicJwk);
    const envelope = appealsSigner.sign({
      id: crypto.randomUUID(),
      type: 'appeal.submitted',
      version: 2,
      occurredAt: new Date().toISOString(),
      source: 'appeals',
      actor,
      subjectId: null,
      correlationId: null,
      data: {
        appealId,
        reference: 'CMP-2026-000001',
        kind: 'APPEAL',
        channel: 'WEB',
        locale: 'RU',
        identity: sealed.ref,
        consent: { templateCode: 'ANNEX2_APPLICANT', givenAt: new Date().toISOString(), evidence: { to: 'consents', id: appealId, sha256: sealed.ref.sha256 } },
      },
    } as never);
    await nc.jetstream().publish(`${prefix}.events.appeal.submitted`, JSON.stringify(envelope));
    await new Promise((r) => setTimeout(r, 700));
    expect(await db.selectFrom('effects').selectAll().where('appeal_id', '=', appealId).execute()).toEqual([]);
    await nc.jetstream().publish(handoffSubject(prefix, 'subjects', appealId), JSON.stringify({ sealed: sealed.sealed }));
    await eventually(async () => (await db.selectFrom('effects').selectAll().where('appeal_id', '=', appealId).execute()).length === 1, 15_000, 'applied');
    expect((await db.selectFrom('effects').select('iin').where('appeal_id', '=', appealId).executeTakeFirstOrThrow()).iin).toBe('900101300049');
    // Delivered again (a redelivery, a duplicate): the inbox keeps it single.
    await nc.jetstream().publish(`${prefix}.events.appeal.submitted`, JSON.stringify(envelope));
    await new Promise((r) => setTimeout(r, 500));
    expect(await db.selectFrom('effects').selectAll().where('appeal_id', '=', appealId).execute()).toHaveLength(1);
    await c.stop();
    await subjects.stop();
    await jsm.consumers.delete(stream, name);
  });

  it('a consumer whose message loop ends is started again, and says so in its state', async () => {
    const name = `dur-restart-${randomBytes(2).toString('hex')}`;
    const seen: string[] = [];
    const c = new EventConsumer(
      { name, types: ['appeal.submitted'], handle: async (_trx, event) => void seen.push(event.id) },
      { db, js: nc.jetstream(), jsm, stream, prefix, logger, service: 'subjects', signer: subjectsSigner, verifier },
    );
    await c.start();
    expect(c.state).toBe('consuming');
    // What the library does when it gives up on a pull: the iterator ends.
    const internals = c as unknown as { messages: { close(): Promise<void> } | null };
    const first = internals.messages!;
    await first.close();
    await eventually(async () => c.state === 'consuming' && internals.messages !== null && internals.messages !== first, 10_000, 'consuming again');
    const { event, appealId } = await submit('900101300056');
    await eventually(async () => seen.includes(event.id), 15_000, 'event consumed after the restart');
    await c.stop();
    expect(c.state).toBe('stopped');
    await jsm.consumers.delete(stream, name);
    await db.transaction().execute((trx) => handoffs('appeals').settle(trx, 'subjects', appealId));
  });
});
