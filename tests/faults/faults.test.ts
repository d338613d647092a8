/**
 * The fault suite: the platform as production runs it (each service its own process, supervised as
 * `npm start` does) against throwaway PostgreSQL and NATS servers that only this suite knows, under
 * intake plus block/unblock load. Each fault is its own test: kill -9 each service in turn, restart
 * NATS, restart PostgreSQL; after each, the books must balance — every accepted submission exactly
 * once in every service, one subject per IIN, every block receipted, nothing parked, no outbox
 * backlog, the audit complete and its chain valid — and every service recovered by itself.
 * Everything it starts it stops (afterAll, and a kill of every child if the test process dies).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from '@pdp/shared/testing';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { SERVICE_NAMES } from '../../scripts/platform-env';
import { graphql } from '../support/client';
import { testEnv } from '../support/env';
import { discrepancies, Load, type LoadStats } from '../support/load';
import { ProcessPlatform } from '../support/platform';
import { freePort, ThrowawayPostgres, track } from '../support/throwaway';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const HEALTH = `{ platformHealth { ready services { name ready outboxBacklog oldestUnpublishedSeconds parkedEvents instances relayListening
  consumers { name pending ackPending } } } }`;

/** Waits until the books balance; fails naming what does not. */
export async function reconciled(platform: ProcessPlatform, accepted: LoadStats['accepted'], timeoutMs = 90_000): Promise<void> {
  await platform.allReady(timeoutMs);
  let problems: string[] = [];
  await eventually(
    async () => {
      problems = await discrepancies(platform, accepted).catch((err: Error) => [`reconciliation failed: ${err.message}`]);
      return problems.length === 0;
    },
    timeoutMs,
    'the books to balance',
    1000,
  ).catch(() => undefined); // the assertion names what does not balance
  expect(problems).toEqual([]);
  // The ops view says the same, without SQL: every service ready, nothing waiting, nothing parked.
  const ops = await platform.tokenFor(['OPS'], { sub: 'ops-fault' });
  await eventually(
    async () => {
      const res = await graphql(platform.gatewayUrl, HEALTH, {}, { token: ops });
      const health = res.data?.platformHealth;
      return (
        health?.ready &&
        health.services.every(
          (s: {
            ready: boolean;
            outboxBacklog: number;
            parkedEvents: number;
            relayListening: boolean;
            consumers: Array<{ pending: number; ackPending: number }>;
          }) => s.ready && s.outboxBacklog === 0 && s.parkedEvents === 0 && s.relayListening && s.consumers.every((c) => c.pending === 0 && c.ackPending === 0),
        )
      );
    },
    30_000,
    'platformHealth all clear',
  );
  const auditor = await platform.tokenFor(['AUDITOR'], { sub: 'auditor-fault' });
  const chain = await graphql(platform.gatewayUrl, '{ verifyAuditChain { valid } }', {}, { token: auditor });
  expect(chain.data?.verifyAuditChain?.valid).toBe(true);
}

describe('faults: each service its own process, supervised, under load', () => {
  let platform: ProcessPlatform;
  const accepted: LoadStats['accepted'] = [];

  beforeAll(async () => {
    platform = await ProcessPlatform.start({ provider: testEnv().provider });
  }, 180_000);

  afterAll(async () => {
    await platform?.stop();
  }, 60_000);

  for (const service of SERVICE_NAMES) {
    test(`kill -9 ${service} under load: the supervisor restarts it, it catches up, nothing lost or doubled`, async () => {
      const victim = platform.instances.find((i) => i.service === service)!;
      const before = { pid: victim.process.pid, restarts: victim.process.restarts };
      const load = new Load(platform);
      await sleep(3000);
      victim.process.kill('SIGKILL');
      await eventually(async () => victim.process.running && victim.process.pid !== before.pid, 30_000, `${service} restarted`);
      await platform.waitReady(victim.port, service, 60_000);
      await sleep(2000);
      const stats = await load.stop();
      accepted.push(...stats.accepted);
      expect(stats.accepted.length).toBeGreaterThan(0);
      expect(victim.process.restarts).toBe(before.restarts + 1);
      expect(platform.supervisorLog.some((line) => line.includes(`${service}#1 exited (SIGKILL); restarting`))).toBe(true);
      await reconciled(platform, accepted);
    }, 180_000);
  }

  test('NATS restart under load: every service stays up, not ready (503 within a second) while it is down, then ready by itself', async () => {
    const pids = platform.pids();
    const load = new Load(platform);
    await sleep(3000);
    await platform.nats.stopNode(0, 'SIGKILL');
    await sleep(1500);
    const during = await platform.readiness();
    for (const r of during) {
      expect(r.status, r.who).toBe(503);
      expect(r.ms, r.who).toBeLessThan(1000);
    }
    await sleep(2000);
    await platform.nats.startNode(0);
    await sleep(3000);
    const stats = await load.stop();
    accepted.push(...stats.accepted);
    await reconciled(platform, accepted);
    // Nobody restarted: they rode it out.
    expect(platform.pids()).toEqual(pids);
  }, 180_000);

  test('PostgreSQL restart under load: no service crashes, /readyz is 503 within a second meanwhile, relays subscribe again', async () => {
    const pids = platform.pids();
    const load = new Load(platform);
    await sleep(3000);
    // A fast shutdown ends every session, checked-out connections in the middle of a transaction too.
    await platform.pg.stop('fast');
    await sleep(1500);
    const during = await platform.readiness();
    for (const r of during) {
      expect(r.status, r.who).toBe(503);
      expect(r.ms, r.who).toBeLessThan(1000);
    }
    await sleep(3000);
    await platform.pg.start();
    await sleep(3000);
    const stats = await load.stop();
    accepted.push(...stats.accepted);
    await reconciled(platform, accepted);
    expect(platform.pids()).toEqual(pids);
    for (const i of platform.instances) {
      expect(platform.log(`${i.service}#${i.index}`)).not.toMatch(/Unhandled 'error' event|Connection terminated unexpectedly\n\s+at /);
      // Woken by NOTIFY again, not by its poll: the listener is back.
      const metrics = await (await fetch(`http://127.0.0.1:${i.port}/metrics`)).text();
      expect(metrics).toMatch(new RegExp(`pdp_outbox_listener_up\\{service="${i.service}"\\} 1`));
    }
  }, 180_000);
});

/** The sum of a metric's samples on one process (`name{labels} value` lines), optionally filtered by a label text. */
async function metricSum(port: number, name: string, having = ''): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  return text
    .split('\n')
    .filter((line) => line.startsWith(`${name}{`) && line.includes(having))
    .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
}

describe('two instances of every service on a three-node JetStream cluster (streams with three replicas), under load', () => {
  let platform: ProcessPlatform;
  const accepted: LoadStats['accepted'] = [];

  beforeAll(async () => {
    platform = await ProcessPlatform.start({ provider: testEnv().provider, instances: 2, natsNodes: 3 });
  }, 240_000);

  afterAll(async () => {
    await platform?.stop();
  }, 60_000);

  test('the gateway balances, relays and durable consumers share the work; one instance of each killed midway: nothing lost or doubled', async () => {
    const load = new Load(platform, { concurrency: 4 });
    await sleep(6000);
    // Before the kill (a restart resets a process's counters): every instance took its share.
    // The load calls appeals (intake) and subjects (block, unblock) through the gateway.
    for (const i of platform.instances.filter((x) => x.service === 'appeals' || x.service === 'subjects')) {
      expect(await metricSum(i.port, 'pdp_graphql_request_seconds_count'), `${i.service}#${i.index} served no request`).toBeGreaterThan(0);
    }
    for (const service of ['subjects', 'consents', 'audit'] as const) {
      for (const i of platform.instances.filter((x) => x.service === service)) {
        expect(await metricSum(i.port, 'pdp_events_consumed_total', 'outcome="applied"'), `${i.service}#${i.index} consumed nothing`).toBeGreaterThan(0);
      }
    }
    // Both relays of appeals (the busiest outbox) took turns.
    const relayed = await Promise.all(platform.instances.filter((i) => i.service === 'appeals').map((i) => metricSum(i.port, 'pdp_events_relayed_total')));
    for (const n of relayed) expect(n, `appeals' relays published ${relayed.join(' and ')} rows`).toBeGreaterThan(0);
    // One instance of each service dies in the middle of its work; the other carries on.
    const victims = platform.instances.filter((i) => i.index === 1);
    for (const v of victims) v.process.kill('SIGKILL');
    const acceptedBefore = load.stats.accepted.length;
    await sleep(6000);
    expect(load.stats.accepted.length, 'intake went on through the surviving instances').toBeGreaterThan(acceptedBefore + 10);
    const stats = await load.stop();
    accepted.push(...stats.accepted);
    await reconciled(platform, accepted);
  }, 240_000);

  test('losing one NATS node of three: the platform goes on with two, nothing lost, nothing doubled, no process restarted', async () => {
    const pids = platform.pids();
    const load = new Load(platform);
    await sleep(3000);
    // The node every client lists first.
    await platform.nats.stopNode(0, 'SIGKILL');
    const acceptedBefore = load.stats.accepted.length;
    await sleep(6000);
    expect(load.stats.accepted.length, 'intake went on').toBeGreaterThan(acceptedBefore);
    const stats = await load.stop();
    accepted.push(...stats.accepted);
    await reconciled(platform, accepted);
    expect(platform.pids()).toEqual(pids);
  }, 240_000);
});

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/**
 * `npm start` supervises: a service that exits is started again with backoff and the log says so;
 * Ctrl+C (SIGINT) still stops everything. Against a throwaway PostgreSQL (DATABASE_URL) and a data
 * directory of its own (DATA_DIR: its nats-server, secrets), so it shares nothing with a developer's.
 */
describe('npm start', () => {
  test('npm start restarts a killed service with backoff, says so, and stops everything on SIGINT', async () => {
    const pg = await ThrowawayPostgres.start();
    const dataDir = mkdtempSync(join(tmpdir(), 'pdp-start-'));
    const output: string[] = [];
    const child = track(
      spawn(process.execPath, ['--import', 'tsx', 'scripts/start.ts'], {
        cwd: new URL('../..', import.meta.url).pathname,
        env: {
          ...process.env,
          DATABASE_URL: pg.url(),
          DATA_DIR: dataDir,
          LOG_LEVEL: 'warn',
          PORT: String(await freePort()),
          EMBEDDED_NATS_PORT: String(await freePort()),
          ...Object.fromEntries(['SUBJECTS', 'APPEALS', 'CONSENTS', 'AUDIT'].map((s) => [`${s}_PORT`, '0'])),
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    );
    child.stdout!.on('data', (d: Buffer) => output.push(d.toString()));
    child.stderr!.on('data', (d: Buffer) => output.push(d.toString()));
    const text = () => output.join('');
    const pidOf = (name: string) =>
      Number([...text().matchAll(new RegExp(`\\[supervisor\\] ${name} (?:started|started again) \\(pid (\\d+)\\)`, 'g'))].at(-1)?.[1]);
    try {
      await eventually(
        async () => {
          if (!text().includes('The platform is ready')) throw new Error(text().slice(-300));
          return true;
        },
        120_000,
        'npm start',
        100,
      );
      const first = pidOf('consents');
      expect(alive(first)).toBe(true);
      process.kill(first, 'SIGKILL');
      await eventually(
        async () => {
          if (!/\[supervisor\] consents exited \(SIGKILL\); restarting in \d+ ms \(restart 1\)/.test(text())) throw new Error('no restart logged');
          if (!(pidOf('consents') !== first && alive(pidOf('consents')))) throw new Error('not started again');
          return true;
        },
        30_000,
        'consents restarted',
        100,
      );
      const pids = ['subjects', 'appeals', 'consents', 'audit', 'gateway'].map(pidOf);
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      child.kill('SIGINT');
      expect(await exited).toBe(0);
      for (const pid of pids) expect(alive(pid), `pid ${pid} still running`).toBe(false);
    } finally {
      child.kill('SIGKILL');
      await pg.destroy();
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 180_000);
});
