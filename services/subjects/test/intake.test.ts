import { randomBytes } from 'node:crypto';
import { generateSealKeyPair, type RunningService } from '@pdp/shared';
import { callSubgraph, eventually, makeIin, publishEvent, publishHandoff } from '@pdp/shared/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SubjectsConfig } from '../src/config';
import type { Database } from '../src/db/tables';
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
    eventually(async () => {
      const rows = await subjects.db.selectFrom('outbox').select('payload').execute();
      const link = rows.map((r) => r.payload as { type: string; data: { appealId: string; subjectId: string; newSubject: boolean } })
        .find((p) => p.type === 'subject.appeal_linked' && p.data.appealId === appealId);
      return link?.data;
    }, 10_000, 'subject.appeal_linked');

  it('registers a new applicant once and finds them again by IIN', async () => {
    const iin = makeIin('1971-07-07', 'F', 3);
    const first = await linkOf(await submitted(iin));
    const second = await linkOf(await submitted(iin, 'stop-collector.kz/schedule'));
    expect(first.newSubject).toBe(true);
    expect(second).toMatchObject({ subjectId: first.subjectId, newSubject: false });

    const res = await callSubgraph(subjects.url, config.internalJwtSecret, dpo, `query($iin: String!) { subjectByIin(iin: $iin) { id iin categories sources { code } purposes { code state } } }`, { iin });
    expect(res.data.subjectByIin).toMatchObject({
      id: first.subjectId,
      iin,
      categories: ['APPLICANT'],
      sources: [{ code: 'WEB_FORM_ANNEX_3' }, { code: 'WEB_FORM_ANNEX_5' }],
      purposes: [{ code: 'APPEAL_HANDLING', state: 'ACTIVE' }, { code: 'APPEAL_HANDLING', state: 'ACTIVE' }],
    });
  });

  it('parks an identity that does not hold a valid IIN instead of storing it', async () => {
    const appealId = await submitted('123456789012');
    await eventually(async () => subjects.db.selectFrom('parked_events').selectAll().where('consumer', '=', 'subjects-intake').executeTakeFirst(), 20_000, 'parked');
    expect(await subjects.db.selectFrom('subject_sources').select('id').where('reference', '=', appealId).execute()).toEqual([]);
    const parked = await subjects.db.selectFrom('parked_events').select(['error', 'payload']).execute();
    expect(JSON.stringify(parked)).not.toContain('123456789012');
  });
});
