import { randomBytes, randomUUID } from 'node:crypto';
import { generateSealKeyPair, type RunningService } from '@pdp/shared';
import { callSubgraph, eventually, makeIin, publishEvent, publishHandoff } from '@pdp/shared/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SubjectsConfig } from '../src/config';
import type { Database } from '../src/db/tables';
import { findOrRegisterSubject } from '../src/db/subjects.repository';
import { startSubjects } from '../src/service';
import { subjectsTestConfig } from './config';

const dpo = { id: 'dpo-1', roles: ['DPO' as const], creditorId: null };

describe('subjects service: registration from the intake', () => {
  let config: SubjectsConfig;
  let subjects: RunningService<Database>;
  let publicKey: string;

  beforeAll(async () => {
    const keys = await generateSealKeyPair();
    publicKey = keys.publicJwk;
    config = await subjectsTestConfig(`subj_${randomBytes(2).toString('hex')}`, keys.privateJwk);
    subjects = await startSubjects(config);
  });
  afterAll(async () => {
    await subjects.stop();
  });

  async function submitted(iin: string, channel = 'collectors.kz/appeal') {
    const appealId = crypto.randomUUID();
    const other = await generateSealKeyPair();
    await publishEvent(config.natsUrl, config.eventsPrefix, {
      type: 'appeal.submitted',
      source: 'appeals',
      actor: { id: 'anonymous', roles: ['PUBLIC'] },
      data: {
        appealId,
        reference: 'APL-2026-000001',
        kind: 'APPEAL',
        channel,
        locale: 'RU',
        identity: await publishHandoff(config.natsUrl, config.eventsPrefix, 'subjects', appealId, { iin }, publicKey),
        consent: {
          templateCode: 'ANNEX2_APPLICANT',
          givenAt: new Date().toISOString(),
          evidence: await publishHandoff(config.natsUrl, config.eventsPrefix, 'consents', appealId, { ip: null, userAgent: null }, other.publicJwk),
        },
      },
    });
    return appealId;
  }

  const linkOf = (appealId: string) =>
    eventually(
      async () => {
        const rows = await subjects.db.selectFrom('outbox').select('payload').execute();
        const link = rows
          .map((r) => r.payload as { type: string; data: { appealId: string; subjectId: string; newSubject: boolean } })
          .find((p) => p.type === 'subject.appeal_linked' && p.data.appealId === appealId);
        return link?.data;
      },
      10_000,
      'subject.appeal_linked',
    );

  it('registers a new applicant once and finds them again by IIN', async () => {
    const iin = makeIin('1971-07-07', 'F', 3);
    const first = await linkOf(await submitted(iin));
    const second = await linkOf(await submitted(iin, 'stop-collector.kz/schedule'));
    expect(first.newSubject).toBe(true);
    expect(second).toMatchObject({ subjectId: first.subjectId, newSubject: false });

    const res = await callSubgraph(
      subjects.url,
      'subjects',
      dpo,
      `query($iin: String!) { subjectByIin(iin: $iin) { id iin categories sources { code } purposes { code state } } }`,
      { iin },
    );
    expect(res.data.subjectByIin).toMatchObject({
      id: first.subjectId,
      iin,
      categories: ['APPLICANT'],
      sources: [{ code: 'WEB_FORM_ANNEX_3' }, { code: 'WEB_FORM_ANNEX_5' }],
      purposes: [
        { code: 'APPEAL_HANDLING', state: 'ACTIVE' },
        { code: 'APPEAL_HANDLING', state: 'ACTIVE' },
      ],
    });
  });

  it('two registrations of one IIN at once make one subject, with both sources', async () => {
    const bidx = `bidx-${randomBytes(8).toString('hex')}`;
    const reg = (reference: string) => ({
      id: randomUUID(),
      iinBidx: bidx,
      iinEncrypted: 'sealed',
      category: 'APPLICANT' as const,
      source: { code: 'WEB_FORM_ANNEX_3', reference },
      purpose: { code: 'APPEAL_HANDLING', reference },
    });
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    // The first registers and holds its transaction open; the second waits on the blind index, then
    // finds the first's subject once it commits (its first statement's snapshot did not have it).
    const first = subjects.db.transaction().execute(async (trx) => {
      const found = await findOrRegisterSubject(trx, reg('a'));
      await held;
      return found;
    });
    await new Promise((r) => setTimeout(r, 100));
    const second = subjects.db.transaction().execute((trx) => findOrRegisterSubject(trx, reg('b')));
    await new Promise((r) => setTimeout(r, 200));
    release();
    const [a, b] = await Promise.all([first, second]);
    expect(a.created).toBe(true);
    expect(b).toEqual({ id: a.id, created: false });
    const sources = await subjects.db.selectFrom('subject_sources').select('reference').where('subject_id', '=', a.id).orderBy('reference').execute();
    expect(sources).toEqual([{ reference: 'a' }, { reference: 'b' }]);
  });

  it('parks an identity that does not hold a valid IIN instead of storing it', async () => {
    const appealId = await submitted('123456789012');
    await eventually(
      async () => subjects.db.selectFrom('parked_events').selectAll().where('consumer', '=', 'subjects-intake').executeTakeFirst(),
      20_000,
      'parked',
    );
    expect(await subjects.db.selectFrom('subject_sources').select('id').where('reference', '=', appealId).execute()).toEqual([]);
    const parked = await subjects.db.selectFrom('parked_events').select(['error', 'payload']).execute();
    expect(JSON.stringify(parked)).not.toContain('123456789012');
  });
});
