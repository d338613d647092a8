/**
 * bench/revocation: from `revokeAccess`'s answer to the first request of that account refused
 * (NO_GRANT), on each of two gateways in front of the same subgraphs (as `INSTANCES=2` runs them),
 * p50 and p99, idle and under read load; the target is p99 ≤ 5 s (security.md, "Sign-in").
 * And what the registry check costs a request: the gateway's lookup (`AccessView.resolve`, a map
 * lookup) timed over a million calls, beside the CPU a read costs the gateway, measured in the same run.
 */
import { graphql } from '@pdp/tests/support/client';
import { signIn } from '@pdp/tests/support/identity';
import { intakeSubject } from '@pdp/tests/support/intake';
import { makeIin } from '@pdp/shared/testing';
import { benchSystem, runConcurrent, stats } from './support';

const WORKLIST = '{ appeals(first: 1) { totalCount } }';
const READ = 'query($id: ID!) { subject(id: $id) { id status appeals { id status } } }';

export async function revocationBench(count: number, concurrency: number) {
  const system = await benchSystem('revocation');
  try {
    const second = await system.startExtraGateway();
    const gateways = [system.url, second.url];
    const provider = system.options.provider;
    const subjectIds: string[] = [];
    for (let i = 0; i < 20; i += 1) subjectIds.push((await intakeSubject(system, { iin: makeIin('1980-01-01', 'F', i * 11) })).subjectId);

    /** Grants an account, waits until both gateways enforce it, revokes it, and times each gateway's first refusal. */
    const once = async (i: number, label: string): Promise<number[]> => {
      const account = `rev-${label}-${i}`;
      const token = await signIn(provider.issuer, account);
      const grantId = await system.accounts.grant(account, ['OPERATOR']);
      for (const url of gateways) {
        for (;;) {
          if ((await graphql(url, WORKLIST, {}, { token })).data?.appeals) break;
          await new Promise((r) => setTimeout(r, 20));
        }
      }
      const dpo = await system.accounts.dpo();
      const revoked = await graphql(system.url, 'mutation($id: ID!) { revokeAccess(grantId: $id, reason: "bench") { id } }', { id: grantId }, { token: dpo });
      if (revoked.errors) throw new Error(JSON.stringify(revoked.errors));
      const t0 = performance.now();
      return Promise.all(
        gateways.map(async (url) => {
          for (;;) {
            const res = await graphql(url, WORKLIST, {}, { token });
            if (res.errors?.[0]?.extensions?.reason === 'NO_GRANT') return performance.now() - t0;
            if (performance.now() - t0 > 30_000) throw new Error('revocation not enforced within 30 s');
          }
        }),
      );
    };

    const idle: number[] = [];
    for (let i = 0; i < count; i += 1) idle.push(...(await once(i, 'idle')));

    const reader = await system.tokenFor(['DPO'], { sub: 'bench-reader' });
    let loadRunning = true;
    let reads = 0;
    const load = runConcurrent(10_000_000, concurrency, async (i) => {
      if (!loadRunning) return;
      await graphql(gateways[i % 2]!, READ, { id: subjectIds[i % subjectIds.length] }, { token: reader });
      reads += 1;
    });
    const loaded: number[] = [];
    for (let i = 0; i < count; i += 1) loaded.push(...(await once(i, 'load')));
    loadRunning = false;
    const loadResult = await load;

    // The registry check of every request: a map lookup. Timed against the gateway's CPU per read.
    const lookups = 1_000_000;
    const t0 = performance.now();
    for (let i = 0; i < lookups; i += 1) system.gateway!.accessOf(i % 2 ? 'bench-reader' : 'nobody');
    const lookupNs = ((performance.now() - t0) * 1e6) / lookups;
    const cpu0 = process.cpuUsage();
    const reads0 = reads;
    const cpuStarted = performance.now();
    loadRunning = true;
    const sample = runConcurrent(500, concurrency, async (i) => {
      await graphql(gateways[0]!, READ, { id: subjectIds[i % subjectIds.length] }, { token: reader });
      reads += 1;
    });
    await sample;
    // Everything runs in this process (the subgraphs too): an upper bound of the gateway's share.
    const cpuPerReadUs = (process.cpuUsage(cpu0).user + process.cpuUsage(cpu0).system) / (reads - reads0);
    const idleStats = stats(idle, 1);
    const loadedStats = stats(loaded, 1);
    return {
      scenario: 'revocation',
      revocations: count,
      gateways: gateways.length,
      backgroundConcurrency: concurrency,
      revokeToRefusedMs: { p50: idleStats.p50, p99: idleStats.p99, max: Math.max(...idle).toFixed(0) },
      revokeToRefusedUnderLoadMs: { p50: loadedStats.p50, p99: loadedStats.p99, max: Math.max(...loaded).toFixed(0) },
      backgroundReadsPerSecond: Number((reads0 / loadResult.seconds).toFixed(1)),
      registryLookupNs: Number(lookupNs.toFixed(1)),
      cpuPerReadUs: Number(cpuPerReadUs.toFixed(0)),
      registryShareOfReadCpu: Number((lookupNs / 1000 / cpuPerReadUs).toExponential(2)),
      sampleSeconds: Number(((performance.now() - cpuStarted) / 1000).toFixed(1)),
      targetP99Ms: 5000,
    };
  } finally {
    await system.destroy();
  }
}
