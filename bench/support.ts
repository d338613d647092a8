import { randomBytes } from 'node:crypto';
import { generateProviderKey, startDevProvider } from '@pdp/dev-oidc';
import type { ProviderInfo } from '@pdp/tests/support/identity';
import { System } from '@pdp/tests/support/system';

let provider: Promise<ProviderInfo> | null = null;

/** The development OpenID provider of this bench run (in process), started once. */
export function benchProvider(): Promise<ProviderInfo> {
  provider ??= (async () => {
    const clientKey = randomBytes(32).toString('base64url');
    const running = await startDevProvider({
      port: 0,
      audience: 'pdp-api',
      signingKey: generateProviderKey(),
      cookieKeys: [randomBytes(32).toString('base64url')],
      clientKey,
      partnerClients: [],
      accessTokenTtlSeconds: 4 * 3600,
    });
    return { issuer: running.issuer, audience: 'pdp-api', clientKey };
  })();
  return provider;
}

/** A fresh platform on the machine's PostgreSQL and NATS (TEST_DATABASE_URL / TEST_NATS_URL). */
export async function benchSystem(name: string): Promise<System> {
  return new System({
    serverUrl: process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
    natsUrl: process.env.TEST_NATS_URL ?? 'nats://127.0.0.1:4222',
    label: `bench_${name}_${Date.now().toString(36)}`,
    provider: await benchProvider(),
    logLevel: 'silent',
  }).start();
}

export interface Stats {
  count: number;
  seconds: number;
  perSecond: number;
  p50: number;
  p95: number;
  p99: number;
}

export function stats(latenciesMs: number[], seconds: number): Stats {
  const sorted = [...latenciesMs].sort((a, b) => a - b);
  const at = (q: number) => Number((sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0).toFixed(2));
  return {
    count: sorted.length,
    seconds: Number(seconds.toFixed(3)),
    perSecond: Number((sorted.length / seconds).toFixed(1)),
    p50: at(0.5),
    p95: at(0.95),
    p99: at(0.99),
  };
}

/** Runs `task(i)` for i in [0, count) with at most `concurrency` in flight; returns per-task latencies. */
export async function runConcurrent(count: number, concurrency: number, task: (i: number) => Promise<void>): Promise<{ latencies: number[]; seconds: number }> {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const i = next;
        next += 1;
        const t0 = performance.now();
        await task(i);
        latencies.push(performance.now() - t0);
      }
    }),
  );
  return { latencies, seconds: (performance.now() - started) / 1000 };
}
