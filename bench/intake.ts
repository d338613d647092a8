/**
 * bench/intake: `submitAppeal` through the gateway (validation, sealing, encryption, the appeal and
 * its outbox event in one transaction) against a baseline measured in the same run: the same two
 * inserts (appeal row and outbox row) done directly against PostgreSQL with the same concurrency.
 * Also reports how long the intake takes to settle in every service (subject, consent, audit).
 */
import { randomUUID } from 'node:crypto';
import { FieldCipher, randomKeySpec } from '@pdp/shared';
import { eventually, makeIin } from '@pdp/shared/testing';
import { graphql } from '@pdp/tests/support/client';
import { form, SUBMIT } from '@pdp/tests/support/intake';
import { sql } from 'kysely';
import { benchSystem, runConcurrent, stats } from './support';

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
    const gateway = await runConcurrent(count, concurrency, async (i) => {
      const res = await graphql(system.url, SUBMIT, { input: form({ iin: iins[i] }) });
      if (res.errors) throw new Error(JSON.stringify(res.errors));
      ids.push(res.data.submitAppeal.appeal.id);
    });
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
    };
  } finally {
    await system.destroy();
  }
}
