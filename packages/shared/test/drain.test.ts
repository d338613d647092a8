import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { request, Agent } from 'node:http';
import { join } from 'node:path';
import { connect, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  createDb,
  createLogger,
  ensureDatabase,
  ensureStream,
  enqueueEvent,
  EventSigner,
  generateEventKeyPair,
  migrateToLatest,
  OutboxRelay,
  registerEventSigner,
  streamName,
  type PlatformTables,
} from '../src';
import type { Kysely } from 'kysely';

/**
 * SIGTERM drains (docs/operations.md, "Stopping"): the requests in flight are answered, keep-alive
 * connections do not hold the exit back, the outbox is flushed before the process exits 0; a drain
 * that hangs ends in exit 1 at its deadline.
 */
const fixture = join(import.meta.dirname, 'fixtures', 'drain-main.ts');

function startFixture(env: Record<string, string> = {}): Promise<{ child: ChildProcess; port: number; out: () => string; exit: Promise<number | null> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', fixture], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += String(d)));
  child.stderr!.on('data', (d) => (out += String(d)));
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setInterval(() => {
      const m = /port (\d+)/.exec(out);
      if (m) {
        clearInterval(timer);
        resolve({ child, port: Number(m[1]), out: () => out, exit });
      }
    }, 20);
    void exit.then((code) => {
      clearInterval(timer);
      reject(new Error(`fixture exited ${code}: ${out}`));
    });
  });
}

function get(port: number, path: string, agent: Agent): Promise<{ status: number; body: string; connection: string | undefined }> {
  return new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port, path, agent }, (res) => {
      let body = '';
      res.on('data', (d) => (body += String(d)));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, connection: res.headers.connection }));
    })
      .on('error', reject)
      .end();
  });
}

describe('SIGTERM drains the process', () => {
  it('answers the request in flight, then stops consuming and flushes, and exits 0 without waiting out keep-alive', async () => {
    const { child, port, out, exit } = await startFixture({ SLOW_MS: '1500' });
    const agent = new Agent({ keepAlive: true, keepAliveMsecs: 60_000 });
    // One keep-alive connection left idle, one request in flight when the signal comes.
    expect((await get(port, '/fast', agent)).body).toBe('ok');
    const inFlight = get(port, '/slow', new Agent({ keepAlive: true }));
    await new Promise((r) => setTimeout(r, 300));
    const signalled = Date.now();
    child.kill('SIGTERM');
    child.kill('SIGTERM'); // a second signal while draining changes nothing
    const answered = await inFlight;
    expect(answered).toMatchObject({ status: 200, body: 'done' });
    expect(await exit).toBe(0);
    // Out soon after the last answer, not after a keep-alive timeout (Node's is 5 s).
    expect(Date.now() - signalled).toBeLessThan(4000);
    expect(out()).toMatch(/SIGTERM: draining[\s\S]*consumers stopped[\s\S]*outbox flushed/);
    // New connections are refused while draining.
    await expect(get(port, '/fast', new Agent())).rejects.toThrow();
    agent.destroy();
  });

  it('a drain that hangs ends at its deadline with exit 1', async () => {
    const { child, exit, out } = await startFixture({ HANG: '1', DEADLINE_MS: '700' });
    child.kill('SIGTERM');
    expect(await exit).toBe(1);
    expect(out()).toMatch(/did not finish within 0.7 s/);
  });
});

describe('the outbox relay flushes when it stops', () => {
  const prefix = `${inject('runPrefix')}_drain_${randomBytes(2).toString('hex')}`;
  let db: Kysely<PlatformTables>;
  let databaseUrl: string;
  let nc: NatsConnection;
  beforeAll(async () => {
    databaseUrl = await ensureDatabase(inject('serverUrl'), `${prefix}_db`);
    db = createDb(databaseUrl, 2);
    await migrateToLatest(db, {});
    nc = await connect({ servers: inject('natsUrl') });
    await ensureStream(await nc.jetstreamManager(), prefix);
    unregister = registerEventSigner(prefix, EventSigner.fromKey('subjects', generateEventKeyPair().privateJwk));
  });
  let unregister: () => void;
  afterAll(async () => {
    unregister();
    await db.destroy();
    await nc.close();
  });

  it('publishes what was committed right before stop(), not leaving it to another instance', async () => {
    // No poll to save it: only the NOTIFY, which comes after stop() has begun, or the flush.
    const relay = new OutboxRelay({ db, databaseUrl, js: nc.jetstream(), logger: createLogger('test', 'silent'), service: 'subjects', pollMs: 600_000 });
    await relay.start();
    const events = [];
    for (let i = 0; i < 3; i += 1) {
      events.push(
        await enqueueEvent(db, prefix, {
          type: 'subject.blocked',
          source: 'subjects',
          actor: { id: 't', roles: ['OPS'] },
          data: { subjectId: crypto.randomUUID() },
        }),
      );
    }
    await relay.stop();
    const left = await db.selectFrom('outbox').select('id').where('published_at', 'is', null).execute();
    expect(left).toEqual([]);
    // A stream of this test's own: exactly these events are on it.
    const jsm = await nc.jetstreamManager();
    expect((await jsm.streams.info(streamName(prefix))).state.messages).toBe(events.length);
  });
});
