import { natsSubject, streamName } from '@pdp/shared';
import { eventually, makeIin } from '@pdp/shared/testing';
import { sql } from 'kysely';
import { connect } from 'nats';
import { describe } from 'vitest';
import { expect, test } from '../support/fixtures';
import { form, settled, SUBMIT } from '../support/intake';
import type { System } from '../support/system';

async function counts(system: System, appealId: string) {
  const [sources, purposes, consents, subjects, audit] = await Promise.all([
    system.db('subjects').selectFrom('subject_sources').select('id').where('reference', '=', appealId).execute(),
    system.db('subjects').selectFrom('subject_purposes').select('id').where('reference', '=', appealId).execute(),
    system.db('consents').selectFrom('consents').select('id').where('appeal_id', '=', appealId).execute(),
    system.db('subjects').selectFrom('subjects').select('id').execute(),
    system.db('audit').selectFrom('audit_log').select(['event_id', 'event_type']).execute(),
  ]);
  return { sources: sources.length, purposes: purposes.length, consents: consents.length, subjects: subjects.length, audit };
}

/** Waits until the intake's consumers and the audit's recorder have nothing pending or unacknowledged. */
async function consumersIdle(system: System, what: string): Promise<void> {
  const watcher = await connect({ servers: system.options.natsUrl });
  try {
    const jsm = await watcher.jetstreamManager();
    await eventually(
      async () => {
        const infos = await Promise.all(['subjects-intake', 'consents-intake', 'audit-recorder'].map((c) => jsm.consumers.info(streamName(system.prefix), c)));
        return infos.every((i) => i.num_pending === 0 && i.num_ack_pending === 0);
      },
      15_000,
      what,
    );
  } finally {
    await watcher.close();
  }
}

describe('no lost data, no double effects', () => {
  test('a duplicated appeal.submitted changes nothing', async ({ system, gw }) => {
    const { data } = await gw(SUBMIT, { input: form() });
    const appealId = data.submitAppeal.appeal.id;
    await settled(system, appealId);
    await eventually(async () => (await counts(system, appealId)).audit.length >= 5, 15_000, 'audit caught up');
    // Whatever the intake still had in flight (hand-off confirmations, the consent's links) is recorded first.
    await consumersIdle(system, 'the intake settled');
    const before = await counts(system, appealId);

    // Publish the very same envelope again under new message ids, as a broken relay or a replay would.
    const row = await system
      .platformDb('appeals')
      .selectFrom('outbox')
      .select('payload')
      .where(sql<boolean>`payload->>'type' = 'appeal.submitted'`)
      .executeTakeFirstOrThrow();
    const nc = await connect({ servers: system.options.natsUrl });
    const js = nc.jetstream();
    for (const suffix of ['dup-1', 'dup-2']) {
      await js.publish(natsSubject(system.prefix, 'appeal.submitted'), JSON.stringify(row.payload), {
        msgID: `${(row.payload as { id: string }).id}-${suffix}`,
      });
    }
    await nc.close();

    // Every consumer has seen the duplicates once they have acked past them.
    await consumersIdle(system, 'duplicates consumed');
    const after = await counts(system, appealId);
    expect(after.sources).toBe(1);
    expect(after.purposes).toBe(1);
    expect(after.consents).toBe(1);
    expect(after.subjects).toBe(1);
    expect(after.audit.filter((a) => a.event_type === 'appeal.submitted')).toHaveLength(1);
    expect(after.audit.length).toBe(before.audit.length);
  });

  test('services that were down while appeals came in catch up with nothing lost', async ({ system, gw }) => {
    await system.stopService('subjects');
    await system.stopService('consents');
    await system.stopService('audit');

    const iins = [1, 2, 3, 4, 5].map((n) => makeIin('1985-02-14', n % 2 ? 'M' : 'F', n * 31));
    const ids: string[] = [];
    for (const iin of iins) {
      const res = await gw(SUBMIT, { input: form({ iin }) });
      expect(res.errors).toBeUndefined(); // intake stays up while the others are down
      ids.push(res.data.submitAppeal.appeal.id);
    }
    // While they are down nothing reached their databases.
    expect(await system.db('consents').selectFrom('consents').select('id').execute()).toHaveLength(0);

    await system.startService('subjects');
    await system.startService('consents');
    await system.startService('audit');
    for (const id of ids) await settled(system, id);
    expect(await system.db('subjects').selectFrom('subjects').select('id').execute()).toHaveLength(5);
    expect(await system.db('consents').selectFrom('consents').select('id').where('subject_id', 'is not', null).execute()).toHaveLength(5);
    await eventually(
      async () => {
        const submitted = await system.db('audit').selectFrom('audit_log').select('event_id').where('event_type', '=', 'appeal.submitted').execute();
        return submitted.length === 5;
      },
      15_000,
      'audit caught up',
    );
  });

  test('an outbox written while the relay was down is published on restart', async ({ system, gw }) => {
    const { data } = await gw(SUBMIT, { input: form() });
    await system.stopService('appeals');
    // As if the process died after publishing but before marking the rows published.
    await system.platformDb('appeals').updateTable('outbox').set({ published_at: null }).execute();
    await system.startService('appeals');
    await settled(system, data.submitAppeal.appeal.id);
    const rows = await system.platformDb('appeals').selectFrom('outbox').select('published_at').execute();
    expect(rows.every((r) => r.published_at !== null)).toBe(true);
    // Republished with the same msgID: the stream deduplicated it, so still one consent.
    expect(await system.db('consents').selectFrom('consents').select('id').execute()).toHaveLength(1);
  });
});
