import { eventually, makeIin } from '@pdp/shared/testing';
import { describe } from 'vitest';
import { expect, test } from '../support/fixtures';
import { form, settled, SUBMIT } from '../support/intake';

const SUBJECT_FIELDS = `id status categories iin registeredAt
  purposes { code state reference } sources { code reference }
  appeals { id reference kind status contact { phone email description } }
  consents { id templateCode templateVersion locale channel status appealId evidence { ip userAgent } }`;

describe('public intake through the gateway', () => {
  test('a complaint lands in all four services, with nothing personal in events or the audit', async ({ system, gw }) => {
    const input = form({ kind: 'COMPLAINT', locale: 'KK' });
    const res = await gw(SUBMIT, { input }, { headers: { 'user-agent': 'FormBrowser/1.0' } });
    expect(res.errors).toBeUndefined();
    const appeal = res.data.submitAppeal.appeal;
    expect(appeal).toMatchObject({ kind: 'COMPLAINT', status: 'NEW', locale: 'KK' });
    expect(appeal.reference).toMatch(/^CMP-\d{4}-\d{6}$/);
    expect(appeal.deadline).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(appeal.deadline > appeal.submittedAt.slice(0, 10)).toBe(true);

    const subjectId = await settled(system, appeal.id);

    // appeals: stored encrypted
    const stored = await system.db('appeals').selectFrom('appeals').selectAll().where('id', '=', appeal.id).executeTakeFirstOrThrow();
    // (the whole digit run: a random id or ciphertext holds '701' one time in a few)
    for (const needle of [input.iin, '7011234567', 'aigerim', 'Коллектор']) expect(JSON.stringify(stored).toLowerCase()).not.toContain(needle.toLowerCase());
    // subjects: category, source and purpose; IIN only as ciphertext and blind index
    const subject = await system.db('subjects').selectFrom('subjects').selectAll().where('id', '=', subjectId).executeTakeFirstOrThrow();
    expect(subject.status).toBe('ACTIVE');
    expect(subject.iin_enc).not.toContain(input.iin);
    expect(subject.iin_bidx).not.toContain(input.iin);
    const purposes = await system.db('subjects').selectFrom('subject_purposes').selectAll().where('subject_id', '=', subjectId).execute();
    expect(purposes).toMatchObject([{ code: 'APPEAL_HANDLING', reference: appeal.id, state: 'ACTIVE' }]);
    const sources = await system.db('subjects').selectFrom('subject_sources').selectAll().where('subject_id', '=', subjectId).execute();
    expect(sources).toMatchObject([{ code: 'WEB_FORM_ANNEX_4', reference: appeal.id }]);
    // consents: Annex 2 in Kazakh, version in force, channel, evidence encrypted
    const consent = await system.db('consents').selectFrom('consents').selectAll().where('appeal_id', '=', appeal.id).executeTakeFirstOrThrow();
    expect(consent).toMatchObject({ template_code: 'ANNEX2_APPLICANT', template_version: 1, locale: 'KK', channel: 'stop-collector.kz/complaint' });
    expect(consent.user_agent_enc).not.toContain('FormBrowser');

    // audit: the collection is recorded, chained, without personal data
    const audit = await eventually(
      async () => {
        const rows = await system.db('audit').selectFrom('audit_log').selectAll().orderBy('seq').execute();
        const types = rows.map((r) => r.event_type);
        return ['appeal.submitted', 'subject.registered', 'subject.appeal_linked', 'consent.recorded', 'consent.subject_linked'].every((t) => types.includes(t))
          ? rows
          : undefined;
      },
      15_000,
      'audit entries',
    );
    expect(audit.find((r) => r.event_type === 'appeal.submitted')).toMatchObject({ operation: 'COLLECT', source: 'appeals', actor_id: 'anonymous' });

    // Nothing personal anywhere on the event path: every outbox and the audit log.
    const pd = [input.iin, '7011234567', 'aigerim', 'Коллектор', 'FormBrowser'];
    for (const name of ['subjects', 'appeals', 'consents', 'audit'] as const) {
      const outbox = await system.platformDb(name).selectFrom('outbox').select('payload').execute();
      for (const needle of pd) expect(JSON.stringify(outbox).toLowerCase()).not.toContain(needle.toLowerCase());
    }
    for (const needle of pd) expect(JSON.stringify(audit).toLowerCase()).not.toContain(needle.toLowerCase());
  });

  test('the same IIN always finds the same subject; staff see appeals and consents', async ({ system, gw }) => {
    const iin = makeIin('1978-11-02', 'F', 7);
    const first = (await gw(SUBMIT, { input: form({ iin, kind: 'APPEAL' }) })).data.submitAppeal.appeal;
    const second = (await gw(SUBMIT, { input: form({ iin, kind: 'SCHEDULE_REQUEST', phone: '+7 777 000 11 22' }) })).data.submitAppeal.appeal;
    const s1 = await settled(system, first.id);
    const s2 = await settled(system, second.id);
    expect(s2).toBe(s1);
    expect(await system.db('subjects').selectFrom('subjects').select('id').execute()).toHaveLength(1);

    const byIin = await gw(`query($iin: String!) { subjectByIin(iin: $iin) { ${SUBJECT_FIELDS} } }`, { iin }, { as: 'OPERATOR' });
    expect(byIin.errors).toBeUndefined();
    const subject = byIin.data.subjectByIin;
    expect(subject).toMatchObject({ id: s1, status: 'ACTIVE', categories: ['APPLICANT'], iin });
    expect(subject.purposes).toHaveLength(2);
    expect(subject.appeals.map((a: { id: string }) => a.id)).toEqual([first.id, second.id]);
    expect(subject.appeals[1].contact).toEqual({ phone: '+77770001122', email: 'aigerim@mail.kz', description: 'Коллектор звонит по ночам и угрожает.' });
    expect(subject.consents).toHaveLength(2);
    expect(subject.consents[0]).toMatchObject({ templateCode: 'ANNEX2_APPLICANT', templateVersion: 1, locale: 'RU', status: 'ACTIVE', appealId: first.id });
    expect(subject.consents[0].evidence.ip).toMatch(/127\.0\.0\.1/);

    const byId = await gw(`query($id: ID!) { subject(id: $id) { id appeals { id } consents { id } } }`, { id: s1 }, { as: 'DPO' });
    expect(byId.data.subject).toMatchObject({ id: s1 });

    // Those reads were recorded, per service, with the actor.
    await eventually(
      async () => {
        const rows = await system
          .db('audit')
          .selectFrom('audit_log')
          .select(['source', 'actor_id'])
          .where('operation', '=', 'ACCESS')
          .where('subject_id', '=', s1)
          .execute();
        const sources = new Set(rows.map((r) => r.source));
        return sources.has('subjects') && sources.has('appeals') && sources.has('consents') && rows.some((r) => r.actor_id === 'operator-1');
      },
      15_000,
      'access records',
    );
  });

  test("the answer to a submission is the stored appeal's reference, or a refusal with nothing stored", async ({ system, gw }) => {
    const submit = (selection: string, fragments = '') =>
      gw(
        `mutation S($input: SubmitAppealInput!${selection.includes('$no') ? ', $no: Boolean = true' : ''}) { submitAppeal(input: $input) { appeal { ${selection} } } } ${fragments}`,
        { input: form() },
        { headers: { 'accept-language': 'kk' } },
      );
    const stored = async () => ({
      appeals: (await system.db('appeals').selectFrom('appeals').select('id').execute()).length,
      submitted: (await system.platformDb('appeals').selectFrom('outbox').select('payload').execute()).filter(
        (r) => (r.payload as { type: string }).type === 'appeal.submitted',
      ).length,
    });
    // More than the receipt — the applicant (subjects' entity), contact data, history (a non-null list
    // that used to null the whole answer after the appeal was kept), the answer, staff fields, also in
    // fragments — is refused before anything is stored.
    const beyond: Array<[string, string[], string?]> = [
      ['reference subject { id }', ['appeal.subject']],
      ['reference subject { status }', ['appeal.subject']],
      ['reference contact { phone }', ['appeal.contact']],
      ['reference history { status by note }', ['appeal.history']],
      ['reference answer assignee', ['appeal.answer', 'appeal.assignee']],
      ['...F', ['appeal.forwardedTo'], 'fragment F on Appeal { reference forwardedTo { id } }'],
      ['reference ... on Appeal { partnerResponse }', ['appeal.partnerResponse']],
    ];
    for (const [selection, fields, fragments] of beyond) {
      const res = await submit(selection, fragments);
      expect(res.errors, selection).toEqual([
        expect.objectContaining({ message: expect.stringContaining('өтініш сақталмады'), extensions: { code: 'FORBIDDEN', fields } }),
      ]);
      expect(res.data, selection).toBeNull();
    }
    // Without the reference in the answer nothing is kept either (@skip counts as left out).
    for (const selection of ['id', 'id status', 'reference @skip(if: $no) id']) {
      const res = await submit(selection);
      expect(res.errors, selection).toEqual([
        expect.objectContaining({ extensions: expect.objectContaining({ code: 'BAD_USER_INPUT', field: 'appeal.reference' }) }),
      ]);
    }
    expect(await stored()).toEqual({ appeals: 0, submitted: 0 });
    // Each over-reaching selection is a denied attempt in the audit.
    const denied = (await system.platformDb('appeals').selectFrom('outbox').select('payload').execute()).filter(
      (r) => (r.payload as { type: string }).type === 'access.denied',
    );
    expect(denied).toHaveLength(beyond.length);
    expect((denied[0]!.payload as { data: { operation: string } }).data.operation).toBe('Mutation.submitAppeal');
    // No appeal.submitted (its hand-offs go in the same transaction): subjects and consents never hear of these.

    // The whole receipt (in fragments too) is answered, and what was stored is what it names.
    const ok = await submit('__typename ...R', 'fragment R on Appeal { id reference kind status deadline submittedAt locale channel }');
    expect(ok.errors).toBeUndefined();
    const appeal = ok.data.submitAppeal.appeal;
    expect(appeal.reference).toMatch(/^APL-\d{4}-\d{6}$/);
    expect(await stored()).toEqual({ appeals: 1, submitted: 1 });
    expect(await system.db('appeals').selectFrom('appeals').select('reference').executeTakeFirstOrThrow()).toEqual({ reference: appeal.reference });
  });

  test('unknown subjects are null, and a bad IIN in a lookup is BAD_USER_INPUT', async ({ gw }) => {
    const none = await gw(`query($iin: String!) { subjectByIin(iin: $iin) { id } }`, { iin: makeIin('1960-01-01') }, { as: 'DPO' });
    expect(none.data.subjectByIin).toBeNull();
    const bad = await gw(`query { subjectByIin(iin: "123") { id } }`, {}, { as: 'DPO' });
    expect(bad.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'iin' });
  });

  test('consent texts are public, in both languages', async ({ gw }) => {
    const q = `query($l: Locale!) { consentTemplate(code: "ANNEX2_APPLICANT", locale: $l) { version locale title body } }`;
    const kk = await gw(q, { l: 'KK' });
    const ru = await gw(q, { l: 'RU' });
    expect(kk.data.consentTemplate.body).toMatch(/келісімімді беремін/);
    expect(ru.data.consentTemplate.body).toMatch(/даю согласие/);
  });
});
