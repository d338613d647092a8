/**
 * bench/limits: what counting the rate limits where every gateway sees them costs a request. Two
 * gateways in front of the same subgraphs, in one run, taking turns in chunks: one counts in the
 * shared PostgreSQL table (`RATE_LIMIT_DATABASE_URL`, as `npm start` and production run it), the
 * other in its own memory (what a lone gateway did before). The request is the cheapest there is
 * (`consentTemplate`, anonymous, one root field: one point against the per-address limit), so the
 * counting's share is as large as it gets.
 */
import { randomBytes } from 'node:crypto';
import { graphql } from '@pdp/tests/support/client';
import { System } from '@pdp/tests/support/system';
import { benchProvider, runConcurrent, stats } from './support';

const QUERY = '{ consentTemplate(code: "ANNEX2_APPLICANT", locale: RU) { code version } }';

export async function limitsBench(count: number, concurrency: number) {
  const system = await new System({
    serverUrl: process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
    natsUrl: process.env.TEST_NATS_URL ?? 'nats://127.0.0.1:4222',
    label: `bench_limits_${Date.now().toString(36)}${randomBytes(2).toString('hex')}`,
    provider: await benchProvider(),
    logLevel: 'silent',
    // A limit no bench reaches: every request is counted, none refused.
    publicRatePerMinute: 1_000_000_000,
  }).start();
  try {
    const memory = await system.startExtraGateway({ rateLimitDatabaseUrl: null });
    const targets = { shared: system.url, memory: memory.url };
    const latencies: Record<string, number[]> = { shared: [], memory: [] };
    const seconds: Record<string, number> = { shared: 0, memory: 0 };
    // Warm both (connections, the verdict cache), then alternate chunks so the machine's load falls on both alike.
    for (const url of Object.values(targets)) await runConcurrent(200, concurrency, async () => void (await graphql(url, QUERY)));
    for (let chunk = 0; chunk < 10; chunk += 1) {
      for (const [name, url] of Object.entries(chunk % 2 ? targets : Object.fromEntries(Object.entries(targets).reverse()))) {
        const run = await runConcurrent(Math.ceil(count / 10), concurrency, async () => {
          const res = await graphql(url, QUERY);
          if (res.errors) throw new Error(JSON.stringify(res.errors));
        });
        latencies[name]!.push(...run.latencies);
        seconds[name]! += run.seconds;
      }
    }
    const shared = stats(latencies.shared!, seconds.shared!);
    const mem = stats(latencies.memory!, seconds.memory!);
    return {
      scenario: 'limits',
      requests: count,
      concurrency,
      sharedCounts: shared,
      memoryCounts: mem,
      throughputRatio: Number((shared.perSecond / mem.perSecond).toFixed(3)),
      p50AddedMs: Number((shared.p50 - mem.p50).toFixed(2)),
    };
  } finally {
    await system.destroy();
  }
}
