/**
 * Insert-to-publish time of the outbox relay before and after a PostgreSQL restart (issue 10: it
 * fell back to its 1 s poll for good, p50 250–730 ms, since its LISTEN never came back). A throwaway
 * PostgreSQL (restarted here) and the machine's NATS (TEST_NATS_URL); one event at a time, 50 ms
 * apart, measured from the commit to its arrival at a subscriber of the stream's subject.
 */
import { randomBytes } from 'node:crypto';
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
} from '@pdp/shared';
import { connect } from 'nats';
import { ThrowawayPostgres } from '../tests/support/throwaway';
import { stats } from './support';

export async function relayRestartBench(count: number): Promise<unknown> {
  const prefix = `bench_relay_${randomBytes(3).toString('hex')}`;
  const pg = await ThrowawayPostgres.start();
  const nc = await connect({ servers: process.env.TEST_NATS_URL ?? 'nats://127.0.0.1:4222' });
  const jsm = await nc.jetstreamManager();
  await ensureStream(jsm, prefix);
  const databaseUrl = await ensureDatabase(pg.url(), 'bench');
  const db = createDb<PlatformTables>(databaseUrl, 4);
  await migrateToLatest(db, {});
  const unregister = registerEventSigner(prefix, EventSigner.fromKey('subjects', generateEventKeyPair().privateJwk));
  const relay = new OutboxRelay({ db, databaseUrl, js: nc.jetstream(), logger: createLogger('bench', 'silent'), service: 'subjects' });
  const waiting = new Map<string, () => void>();
  const sub = nc.subscribe(`${prefix}.events.>`, {
    callback: (_err, msg) => waiting.get((msg.json() as { id: string }).id)?.(),
  });
  const measure = async () => {
    const latencies: number[] = [];
    for (let i = 0; i < count; i += 1) {
      let arrive!: () => void;
      const arrived = new Promise<void>((resolve) => (arrive = resolve));
      await db.transaction().execute(async (trx) => {
        const event = await enqueueEvent(trx, prefix, {
          type: 'subject.blocked',
          source: 'subjects',
          actor: { id: 'bench', roles: [] },
          data: { subjectId: crypto.randomUUID() },
        });
        waiting.set(event.id, arrive);
      });
      const committed = performance.now();
      await arrived;
      latencies.push(performance.now() - committed);
      // Events come one by one, apart: the relay has gone back to waiting when the next commits.
      await new Promise((r) => setTimeout(r, 50));
    }
    return stats(latencies, latencies.reduce((a, b) => a + b, 0) / 1000);
  };
  try {
    await relay.start();
    const before = await measure();
    await pg.stop('fast');
    await new Promise((r) => setTimeout(r, 2000));
    await pg.start();
    const deadline = Date.now() + 15_000;
    while (!relay.isListening && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const relistenedWithinMs = relay.isListening ? 15_000 - (deadline - Date.now()) : null;
    const after = await measure();
    return {
      scenario: 'relay-restart',
      count,
      unit: 'ms from commit to the subscriber',
      beforeRestart: before,
      afterRestart: after,
      listeningAgainAfterStartMs: relistenedWithinMs,
    };
  } finally {
    sub.unsubscribe();
    await relay.stop();
    unregister();
    await db.destroy();
    await jsm.streams.delete(streamName(prefix)).catch(() => undefined);
    await nc.close();
    await pg.destroy();
  }
}
