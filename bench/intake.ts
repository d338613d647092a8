/**
 * bench/intake: `submitAppeal` through the gateway (validation, sealing, encryption, the appeal and
 * its outbox event in one transaction) against a baseline measured in the same run: the same two
 * inserts (appeal row and outbox row) done directly against PostgreSQL with the same concurrency.
 * Also reports how long the intake takes to settle in every service (subject, consent, audit).
 */
import { randomUUID } from 'node:crypto';
import { FieldCipher, randomKeySpec, streamName } from '@pdp/shared';
import { eventually, makeIin } from '@pdp/shared/testing';
import { graphql } from '@pdp/tests/support/client';
import { form, SUBMIT } from '@pdp/tests/support/intake';
import type { System } from '@pdp/tests/support/system';
import { sql } from 'kysely';
import { connect } from 'nats';
import { benchSystem, runConcurrent, stats } from './support';

/**
 * The audit recorder's backlog while the intake runs: sampled every 250 ms from the durable consumer,
 * then how long after the last submission it drains. A recorder that keeps up shows a flat backlog,
 * not one that grows with the run.
 */
async function auditLagSampler(system: System) {
  const nc = await connect({ servers: system.options.natsUrl });
  const jsm = await nc.jetstreamManager();
  const stream = streamName(system.prefix);
  const pending = async () => {
    const info = await jsm.consumers.info(stream, 'audit-recorder');
    return info.num_pending + info.num_ack_pending;
  };
  const t0 = performance.now();
  const samples: Array<[number, number]> = [];
  const timer = setInterval(() => void pending().then((n) => samples.push([Number(((performance.now() - t0) / 1000).toFixed(2)), n]), () => undefined), 250);
  return {
    async stop() {
      clearInterval(timer);
      const last = performance.now();
      await eventually(async () => (await pending()) === 0, 300_000, 'the audit recorder drained');
      await nc.close();
      const quarter = (q: number) => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))]?.[1] ?? 0;
      return {
        maxPending: Math.max(0, ...samples.map(([, n]) => n)),
        pendingAtQuarters: [quarter(0.25), quarter(0.5), quarter(0.75), quarter(0.99)],
        drainedSecondsAfterLastSubmission: Number(((performance.now() - last) / 1000).toFixed(2)),
        samples,
      };
    },
  };
}

export async function intakeBench(count: number, concurrency: number) {
  const system = await benchSystem('intake');
  try {
    const iins = Array.from({ length: count }, (_, i) => makeIin('1980-01-01', i % 2 ? 'M' : 'F', i * 3));
    // Warm-up: connections, JIT, prepared plans.
    await runConcurrent(20, 4, async (i) => void (await graphql(system.url, SUBMIT, { input: form({ iin: iins[i] }) })));

    const appeals = system.db('appeals');
    const cipher = new FieldCipher(randomKeySpec());
    const baseline = await runConcurrent(count, concurrency, async () => {
      const id = randomUUID();
      await appeals.transaction().execute(async (trx) => {
        const { rows } = await sql<{ n: string }>`select nextval('appeal_reference_seq') as n`.execute(trx);
        await trx.insertInto('appeals').values({
          id, reference: `BASE-${rows[0]!.n}`, kind: 'APPEAL', status: 'NEW', channel: 'baseline', locale: 'RU', subject_id: null,
          phone_enc: cipher.encrypt('+77011234567'), email_enc: cipher.encrypt('a@b.kz'), description_enc: cipher.encrypt('baseline text'), deadline: '2026-12-31',
        }).execute();
        // Published rows, so the relay leaves them alone and consumers never see them.
        await trx.insertInto('outbox').values({ id, subject: 'baseline', payload: JSON.stringify({ id }), published_at: new Date() }).execute();
      });
    });

    const started = performance.now();
    const ids: string[] = [];
    const lag = await auditLagSampler(system);
    const gateway = await runConcurrent(count, concurrency, async (i) => {
      const res = await graphql(system.url, SUBMIT, { input: form({ iin: iins[i] }) });
      if (res.errors) throw new Error(JSON.stringify(res.errors));
      ids.push(res.data.submitAppeal.appeal.id);
    });
    const auditLag = await lag.stop();
    await eventually(async () => {
      const { n } = await system.db('consents').selectFrom('consents').select((eb) => eb.fn.countAll<string>().as('n')).where('subject_id', 'is not', null).executeTakeFirstOrThrow();
      return Number(n) >= count + 20;
    }, 300_000, 'intake settled everywhere');
    const settledSeconds = (performance.now() - started) / 1000;

    const base = stats(baseline.latencies, baseline.seconds);
    const gw = stats(gateway.latencies, gateway.seconds);
    return {
      scenario: 'intake',
      count,
      concurrency,
      baseline: base,
      submitAppeal: gw,
      throughputRatio: Number((gw.perSecond / base.perSecond).toFixed(3)),
      p50Ratio: Number((gw.p50 / base.p50).toFixed(2)),
      settledEverywhereSeconds: Number(settledSeconds.toFixed(2)),
      auditLag,
    };
  } finally {
    await system.destroy();
  }
}
