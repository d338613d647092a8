/**
 * bench/propagation: time from `blockSubject`'s commit (its response) to the last holder's receipt
 * recorded by subjects, p50 and p99, without and with background intake load; next to the raw
 * JetStream publish → consume round trip on the same server, measured in the same run.
 */
import { randomUUID } from 'node:crypto';
import { graphql } from '@pdp/tests/support/client';
import { form, intakeSubject, SUBMIT } from '@pdp/tests/support/intake';
import { makeIin } from '@pdp/shared/testing';
import { AckPolicy, connect } from 'nats';
import type { System } from '@pdp/tests/support/system';
import { benchSystem, runConcurrent, stats } from './support';

export async function rawRoundTrip(natsUrl: string, samples: number): Promise<number[]> {
  const nc = await connect({ servers: natsUrl });
  const jsm = await nc.jetstreamManager();
  const name = `BENCH_RTT_${Date.now().toString(36)}`.toUpperCase();
  await jsm.streams.add({ name, subjects: [`${name.toLowerCase()}.>`] });
  await jsm.consumers.add(name, { durable_name: 'rtt', ack_policy: AckPolicy.Explicit });
  const consumer = await nc.jetstream().consumers.get(name, 'rtt');
  const messages = await consumer.consume({ max_messages: 64 });
  const latencies: number[] = [];
  const iterator = messages[Symbol.asyncIterator]();
  for (let i = 0; i < samples; i += 1) {
    const t0 = performance.now();
    await nc.jetstream().publish(`${name.toLowerCase()}.x`, JSON.stringify({ i }), { msgID: randomUUID() });
    const { value } = await iterator.next();
    value.ack();
    latencies.push(performance.now() - t0);
  }
  // Not awaited: close() waits for an iterator this loop no longer drives.
  messages.stop();
  await jsm.streams.delete(name);
  await nc.close();
  return latencies;
}

async function blockLatencies(system: System, subjectIds: string[]): Promise<number[]> {
  const token = await system.tokenFor(['DPO']);
  const db = system.db('subjects');
  const latencies: number[] = [];
  for (const subjectId of subjectIds) {
    const res = await graphql(system.url, `mutation($id: ID!) { blockSubject(subjectId: $id, reason: "bench") { status } }`, { id: subjectId }, { token });
    if (res.errors) throw new Error(JSON.stringify(res.errors));
    const t0 = performance.now();
    for (;;) {
      const rows = await db.selectFrom('block_receipts').select('blocked').where('subject_id', '=', subjectId).execute();
      if (rows.length === 3 && rows.every((r) => r.blocked)) break;
      await new Promise((r) => setTimeout(r, 2));
    }
    latencies.push(performance.now() - t0);
  }
  return latencies;
}

export async function propagationBench(count: number, concurrency: number) {
  const system = await benchSystem('propagation');
  try {
    const subjects: string[] = [];
    for (let i = 0; i < count * 2; i += 1) subjects.push((await intakeSubject(system, { iin: makeIin('1975-03-03', 'M', i * 7) })).subjectId);
    const raw = await rawRoundTrip(system.options.natsUrl, 200);
    const idle = await blockLatencies(system, subjects.slice(0, count));

    let loadRunning = true;
    let submitted = 0;
    const load = runConcurrent(1_000_000, concurrency, async (i) => {
      if (!loadRunning) return;
      await graphql(system.url, SUBMIT, { input: form({ iin: makeIin('1999-09-09', 'F', i % 9000) }) });
      submitted += 1;
    });
    const loaded = await blockLatencies(system, subjects.slice(count));
    loadRunning = false;
    const loadResult = await load;
    const rawStats = stats(raw, 1);
    const idleStats = stats(idle, 1);
    const loadedStats = stats(loaded, 1);
    return {
      scenario: 'propagation',
      blocks: count,
      backgroundConcurrency: concurrency,
      rawJetStreamRoundTripMs: { p50: rawStats.p50, p99: rawStats.p99 },
      blockToLastReceiptMs: { p50: idleStats.p50, p99: idleStats.p99 },
      blockToLastReceiptUnderLoadMs: { p50: loadedStats.p50, p99: loadedStats.p99 },
      backgroundIntakePerSecond: Number((submitted / loadResult.seconds).toFixed(1)),
      p50RatioToRaw: Number((idleStats.p50 / rawStats.p50).toFixed(1)),
      p50RatioToRawUnderLoad: Number((loadedStats.p50 / rawStats.p50).toFixed(1)),
    };
  } finally {
    await system.destroy();
  }
}
