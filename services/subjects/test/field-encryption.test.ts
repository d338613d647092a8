import { randomBytes, randomUUID } from 'node:crypto';
import { createDb, migrateToLatest, type RunningService } from '@pdp/shared';
import { callSubgraph, eventually, legacyCiphertext, makeIin } from '@pdp/shared/testing';
import type { Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SubjectsConfig } from '../src/config';
import { migrations } from '../src/db/migrations';
import type { Database } from '../src/db/tables';
import { startSubjects } from '../src/service';
import { subjectsTestConfig } from './config';

const dpo = { id: 'dpo-1', roles: ['DPO' as const], creditorId: null };
const ops = { id: 'ops-1', roles: ['OPS' as const], creditorId: null };
const IIN = `query($id: ID!) { subject(id: $id) { id iin } }`;
const HEALTH = `{ platformHealth { services { name fieldEncryption { table keyId completedAt legacyRetiredAt pending unreadable } } } }`;

/**
 * The upgrade to format v2 as production meets it: a subjects database left by the previous version
 * (every value v1, no `field_encryption` table), then the new version started on it.
 */
describe('subjects: the re-encryption job at service start', () => {
  let config: SubjectsConfig;
  let db: Kysely<Database>;
  let service: RunningService<Database> | null = null;
  const people = new Map<string, string>();

  beforeAll(async () => {
    config = { ...(await subjectsTestConfig(`reenc_${randomBytes(2).toString('hex')}`)), healthReportMs: 300 };
    db = createDb<Database>(config.databaseUrl, 2);
    // The database as the release before field encryption left it (every later migration too is still to come).
    await migrateToLatest(db, migrations, { before: Object.keys(migrations).find((name) => name.endsWith('_field_encryption'))! });
    const rows = Array.from({ length: 450 }, (_, i) => {
      const id = randomUUID();
      const iin = makeIin('1975-05-05', i % 2 ? 'M' : 'F', 1000 + i * 3);
      people.set(id, iin);
      return { id, status: 'ACTIVE' as const, iin_enc: legacyCiphertext(config.encryptionKeys, iin), iin_bidx: `bidx-${id}` };
    });
    await db.insertInto('subjects').values(rows).execute();
    await db
      .insertInto('subject_categories')
      .values(rows.map((r) => ({ subject_id: r.id, category: 'APPLICANT' })))
      .execute();
  });
  afterAll(async () => {
    await service?.stop();
    await db.destroy();
  });

  const state = () => db.selectFrom('field_encryption').selectAll().where('table_name', '=', 'subjects').executeTakeFirst();

  it('re-encrypts every v1 value in the background, serving meanwhile, and records the table complete', async () => {
    service = await startSubjects(config);
    // Served at once: a value still v1 opens until the table is complete.
    const [firstId, firstIin] = people.entries().next().value!;
    expect((await callSubgraph(service.url, 'subjects', dpo, IIN, { id: firstId })).data.subject).toEqual({ id: firstId, iin: firstIin });

    const done = await eventually(
      async () => {
        const s = await state();
        return s?.completed_at ? s : null;
      },
      30_000,
      'subjects recorded complete',
    );
    expect(done).toMatchObject({ key_id: 'k1', pending: '0', unreadable: '0' });
    expect(done.legacy_retired_at).not.toBeNull();
    const rows = await db.selectFrom('subjects').select(['id', 'iin_enc']).execute();
    expect(rows.every((r) => r.iin_enc!.startsWith('v2.k1.'))).toBe(true);
    for (const id of [...people.keys()].slice(0, 20)) {
      expect((await callSubgraph(service.url, 'subjects', dpo, IIN, { id })).data.subject).toEqual({ id, iin: people.get(id) });
    }
    // Every encrypted table of the service is recorded, the empty ones too.
    const tables = (await db.selectFrom('field_encryption').select('table_name').orderBy('table_name').execute()).map((r) => r.table_name);
    expect(tables).toEqual(['contracts', 'employments', 'rectification_requests', 'subjects']);

    // Ops watch it through the ops view (no database login): key, completion, counts.
    const health = await eventually(
      async () => {
        const res = await callSubgraph(service!.url, 'subjects', ops, HEALTH);
        const mine = res.data?.platformHealth.services.find((s: { name: string }) => s.name === 'subjects');
        return mine?.fieldEncryption.length === 4 ? mine.fieldEncryption : null;
      },
      10_000,
      'the ops view shows the re-encryption',
    );
    expect(health.find((f: { table: string }) => f.table === 'subjects')).toMatchObject({ keyId: 'k1', pending: 0, unreadable: 0 });
  });

  it('refuses a v1 value put back afterwards (from a backup, or moved), also after a restart', async () => {
    const [victim, other] = [...people.keys()];
    // An old ciphertext of another person, as a backup from before the upgrade holds it.
    await db
      .updateTable('subjects')
      .set({ iin_enc: legacyCiphertext(config.encryptionKeys, people.get(other!)!) })
      .where('id', '=', victim!)
      .execute();
    const read = async () => callSubgraph(service!.url, 'subjects', dpo, IIN, { id: victim });
    const refused = await read();
    expect(refused.errors?.[0]?.extensions?.code).toBe('INTERNAL_SERVER_ERROR');
    expect(JSON.stringify(refused)).not.toContain(people.get(other!)!);

    await service!.stop();
    service = await startSubjects(config);
    const again = await read();
    expect(again.errors?.[0]?.extensions?.code).toBe('INTERNAL_SERVER_ERROR');
    expect(JSON.stringify(again)).not.toContain(people.get(other!)!);
    // The job met it, left it where it is (never re-encrypted into the victim's row) and counts it.
    await eventually(async () => (await state())?.unreadable === '1', 15_000, 'the planted value counted unreadable');
    expect((await db.selectFrom('subjects').select('iin_enc').where('id', '=', victim!).executeTakeFirstOrThrow()).iin_enc!.startsWith('v1.')).toBe(true);
  });
});
