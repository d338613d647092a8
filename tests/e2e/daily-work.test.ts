import { eventually, makeIin } from '@pdp/shared/testing';
import { describe } from 'vitest';
import { graphql } from '../support/client';
import { expect, startSystem, test, type Gw } from '../support/fixtures';
import { form, intakeSubject, settled, SUBMIT } from '../support/intake';
import type { System } from '../support/system';

const REGISTER = `mutation($input: PaperAppealInput!) { registerAppeal(input: $input) { id reference status channel contact { phone email description } } }`;
const STORY = `query($id: ID!) { appeal(id: $id) { id channel subject { id status } history { status at by note } } }`;
const COMMENT = `mutation($id: ID!, $note: String!) { commentAppeal(appealId: $id, note: $note) { id history { status by note } } }`;
const MOVE = `mutation($id: ID!, $s: AppealStatus!) { changeAppealStatus(appealId: $id, status: $s) { id status } }`;
const BLOCK = `mutation($id: ID!, $r: String!) { blockSubject(subjectId: $id, reason: $r) { id status } }`;
const UNBLOCK = `mutation($id: ID!, $r: String!) { unblockSubject(subjectId: $id, reason: $r) { id status } }`;
const REPORT = `query($id: ID!) { accessReport(subjectId: $id) {
  status categories sources { code } methods storagePeriod
  subjectsHolding { dataItems processingPeriod } appealsHolding { records dataItems processingPeriod } consentsHolding { records dataItems processingPeriod } } }`;
const STATUS = `query($ref: String!, $iin: String!) { appealStatus(reference: $ref, iin: $iin) { reference status deadline } }`;

function paper(overrides: Record<string, unknown> = {}) {
  return {
    kind: 'COMPLAINT',
    iin: makeIin('1975-02-14', 'F', Math.floor(Math.random() * 9000)),
    description: 'Письмо: коллектор звонит родственникам.',
    channel: 'PAPER',
    consentDocument: 'Приложение 2 № 15/2026 от 20.11.2026',
    consentSignedOn: '2026-11-20',
    locale: 'RU',
    ...overrides,
  };
}

/** Text a person reads must be Kazakh or Russian: no English words (site addresses and "IP" aside). */
function expectNoEnglish(text: string, where: string) {
  const stripped = text.replace(/\b[\w-]+(\.[\w-]+)+\b/g, '').replace(/\bIP\b/g, '');
  expect(stripped, `${where}: ${text}`).not.toMatch(/[A-Za-z]{3,}/);
}

describe("each role's whole day", () => {
  test('every bad field at once, for each input-taking operation; nothing is stored', async ({ system, gw }) => {
    const bad = await gw(SUBMIT, { input: form({ iin: '123', phone: '12', email: 'nope', description: 'x' }) }, { headers: { 'accept-language': 'kk' } });
    expect(bad.errors?.map((e) => e.extensions?.field).sort()).toEqual(['description', 'email', 'iin', 'phone']);
    for (const e of bad.errors ?? []) expect(e.extensions?.code).toBe('BAD_USER_INPUT');

    const paperBad = await gw(
      REGISTER,
      { input: paper({ iin: '1', phone: '5', description: '', consentDocument: '', consentSignedOn: '2026-02-30' }) },
      { as: 'OPERATOR' },
    );
    expect(paperBad.errors?.map((e) => e.extensions?.field).sort()).toEqual(['consentDocument', 'consentSignedOn', 'description', 'iin', 'phone']);

    const { subjectId } = await intakeSubject(system);
    const rect = await gw(
      `mutation($input: RectificationInput!) { requestRectification(input: $input) { id } }`,
      { input: { subjectId, field: 'phone', newValue: 'not a phone', documents: [] } },
      { as: 'DPO' },
    );
    expect(rect.errors?.map((e) => e.extensions?.field).sort()).toEqual(['documents', 'newValue']);
    const appeals = await system.db('appeals').selectFrom('appeals').select('id').execute();
    expect(appeals).toHaveLength(1); // only intakeSubject's
  });

  test('submitAppeal is the public door; paper and in-person appeals come in through registerAppeal with the signed Annex 2', async ({ system, gw }) => {
    for (const role of ['OPERATOR', 'DPO', 'PARTNER'] as const) {
      const res = await gw(SUBMIT, { input: form() }, { as: role });
      expect(res.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    }
    expect((await gw(REGISTER, { input: paper() }, { as: 'DPO' })).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await gw(REGISTER, { input: paper() })).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect(await system.db('appeals').selectFrom('appeals').select('id').execute()).toHaveLength(0);

    const token = await system.tokenFor(['OPERATOR'], { sub: 'operator-aigul' });
    const input = paper({ channel: 'IN_PERSON', email: 'Person@Mail.kz' });
    const res = await graphql(system.url, REGISTER, { input }, { token });
    expect(res.errors).toBeUndefined();
    const appeal = res.data.registerAppeal;
    expect(appeal).toMatchObject({ status: 'NEW', channel: 'IN_PERSON', contact: { phone: null, email: 'person@mail.kz' } });
    expect(appeal.reference).toMatch(/^CMP-\d{4}-\d{6}$/);
    const subjectId = await settled(system, appeal.id);

    const consent = await gw(
      `query($id: ID!) { subject(id: $id) { consents { channel evidence { ip userAgent document enteredBy } } } }`,
      { id: subjectId },
      { as: 'DPO' },
    );
    expect(consent.data.subject.consents).toEqual([
      { channel: 'IN_PERSON', evidence: { ip: null, userAgent: null, document: input.consentDocument, enteredBy: 'operator-aigul' } },
    ]);
    const report = await gw(REPORT, { id: subjectId }, { as: 'DPO', headers: { 'accept-language': 'ru' } });
    expect(report.data.accessReport.sources).toEqual([{ code: 'IN_PERSON' }]);
    expect(report.data.accessReport.methods[0]).toMatch(/лично/);
    const entered = await system.db('appeals').selectFrom('appeals').select(['entered_by']).where('id', '=', appeal.id).executeTakeFirstOrThrow();
    expect(entered.entered_by).toBe('operator-aigul');
  });

  test('an appeal leads to its subject and tells its story: every move and note, when and by whom', async ({ system, gw }) => {
    const { appealId, subjectId } = await intakeSubject(system);
    const operator = await system.tokenFor(['OPERATOR'], { sub: 'operator-1' });
    expect((await graphql(system.url, MOVE, { id: appealId, s: 'IN_PROGRESS' }, { token: operator })).errors).toBeUndefined();
    const commented = await graphql(system.url, COMMENT, { id: appealId, note: 'Позвонила заявителю, жду документы.' }, { token: operator });
    expect(commented.errors).toBeUndefined();
    const story = await graphql(system.url, STORY, { id: appealId }, { token: operator });
    expect(story.errors).toBeUndefined();
    expect(story.data.appeal.subject).toEqual({ id: subjectId, status: 'ACTIVE' });
    expect(story.data.appeal.history.map((h: { status: string; by: string; note: string | null }) => [h.status, h.by, h.note])).toEqual([
      ['NEW', 'public', null],
      ['IN_PROGRESS', 'operator-1', null],
      ['IN_PROGRESS', 'operator-1', 'Позвонила заявителю, жду документы.'],
    ]);
    // The note is stored encrypted, and reading the history is recorded.
    const stored = await system.db('appeals').selectFrom('appeal_changes').select('note_enc').where('note_enc', 'is not', null).executeTakeFirstOrThrow();
    expect(stored.note_enc).not.toContain('документы');
    await eventually(
      async () => {
        const rows = await system
          .db('audit')
          .selectFrom('audit_log')
          .select('details')
          .where('subject_id', '=', subjectId)
          .where('event_type', '=', 'pd.accessed')
          .execute();
        return rows.some((r) => JSON.stringify(r.details).includes('history'));
      },
      15_000,
      'history read recorded',
    );
    // The public caller who submitted it sees none of that.
    expect((await gw(STORY, { id: appealId })).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    // A blocked subject's appeal takes no notes and does not move.
    await gw(BLOCK, { id: subjectId, r: 'Запрос субъекта от 25.11.2026' }, { as: 'DPO' });
    await eventually(
      async () => (await system.db('appeals').selectFrom('blocked_subjects').select('subject_id').execute()).length === 1,
      15_000,
      'block applied',
    );
    expect((await graphql(system.url, COMMENT, { id: appealId, note: 'ещё заметка' }, { token: operator })).errors?.[0]?.extensions?.code).toBe(
      'SUBJECT_BLOCKED',
    );
  });

  test('what a person reads is in Kazakh or Russian: the access report, conflicts, limits, validation', async ({ system, gw }) => {
    const { subjectId, appealId } = await intakeSubject(system);
    for (const lang of ['kk', 'ru']) {
      const headers = { 'accept-language': lang };
      const report = await gw(REPORT, { id: subjectId }, { as: 'DPO', headers });
      expect(report.errors).toBeUndefined();
      const r = report.data.accessReport;
      const texts = [
        ...r.methods,
        r.storagePeriod,
        ...r.subjectsHolding.dataItems,
        r.subjectsHolding.processingPeriod,
        ...r.appealsHolding.dataItems,
        r.appealsHolding.processingPeriod,
        ...r.consentsHolding.dataItems,
        r.consentsHolding.processingPeriod,
      ];
      expect(texts.length).toBeGreaterThan(10);
      for (const text of texts) expectNoEnglish(text, `${lang} access report`);

      const conflict = await gw(MOVE, { id: appealId, s: 'ANSWERED' }, { as: 'OPERATOR', headers });
      expect(conflict.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', reason: 'TRANSITION_NOT_ALLOWED' });
      const invalid = await gw(`{ subject(id: "${subjectId}") { nope } }`, {}, { as: 'DPO', headers });
      const tooMany = await gw(
        `{ ${Array.from({ length: 16 }, (_, i) => `a${i}: consentTemplate(code: "X", locale: RU) { version }`).join(' ')} }`,
        {},
        { headers },
      );
      for (const res of [conflict, invalid, tooMany]) {
        expect(res.errors?.length).toBeGreaterThan(0);
        for (const e of res.errors ?? []) expectNoEnglish(e.message, `${lang} error ${e.extensions?.code}`);
      }
      const lang1 = conflict.errors![0]!.message;
      expect(lang === 'kk' ? lang1 : lang1).toMatch(lang === 'kk' ? /жаңа/ : /новое/);
    }
  });

  test("the DPO's and the Chairman's view: blocks, pending requests, decision notes, holdings, acts by subject", async ({ system, gw }) => {
    const { subjectId } = await intakeSubject(system);
    const other = await intakeSubject(system);
    await gw(BLOCK, { id: subjectId, r: 'Заявление субъекта № 7' }, { as: 'DPO' });
    await gw(UNBLOCK, { id: subjectId, r: 'Проверка завершена' }, { as: 'DPO' });
    const blocks = await gw(
      `query($id: ID!) { subject(id: $id) { blocks { blockedBy reason unblockedBy unblockReason blockedAt unblockedAt } } }`,
      { id: subjectId },
      { as: 'DPO' },
    );
    expect(blocks.data.subject.blocks).toEqual([
      expect.objectContaining({ blockedBy: 'dpo-1', reason: 'Заявление субъекта № 7', unblockedBy: 'dpo-1', unblockReason: 'Проверка завершена' }),
    ]);

    const REQUEST = `mutation($input: RectificationInput!) { requestRectification(input: $input) { id status } }`;
    for (const s of [subjectId, other.subjectId]) {
      const r = await gw(REQUEST, { input: { subjectId: s, field: 'email', newValue: 'new@mail.kz', documents: ['Заявление № 1'] } }, { as: 'DPO' });
      expect(r.errors).toBeUndefined();
    }
    const LIST = `query($after: String) { rectificationRequests(status: PENDING, first: 1, after: $after) { id subjectId status cursor } }`;
    const page1 = await gw(LIST, {}, { as: 'DPO' });
    expect(page1.data.rectificationRequests).toHaveLength(1);
    const page2 = await gw(LIST, { after: page1.data.rectificationRequests[0].cursor }, { as: 'DPO' });
    expect(page2.data.rectificationRequests).toHaveLength(1);
    expect(page2.data.rectificationRequests[0].id).not.toBe(page1.data.rectificationRequests[0].id);
    expect((await gw(LIST, { after: 'garbage' }, { as: 'DPO' })).errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'after' });
    expect((await gw(LIST, {}, { as: 'OPERATOR' })).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');

    const PROPOSE = `mutation($id: ID!) { proposeErasure(subjectId: $id, method: DESTROY, grounds: "Основание: заявление субъекта") { id } }`;
    const act = (await gw(PROPOSE, { id: subjectId }, { as: 'DPO' })).data.proposeErasure.id;
    await gw(PROPOSE, { id: other.subjectId }, { as: 'DPO' });
    // The Chairman sees what the decision is about: status, categories and holdings, no PD values.
    const holdings = await gw(REPORT, { id: subjectId }, { as: 'CHAIRMAN' });
    expect(holdings.errors).toBeUndefined();
    expect(holdings.data.accessReport).toMatchObject({ status: 'ACTIVE', categories: ['APPLICANT'], appealsHolding: { records: 1 } });
    const rejected = await gw(
      `mutation($id: ID!) { rejectErasure(actId: $id, note: "Идёт судебное разбирательство") { status decisionNote } }`,
      { id: act },
      { as: 'CHAIRMAN' },
    );
    expect(rejected.data.rejectErasure).toEqual({ status: 'REJECTED', decisionNote: 'Идёт судебное разбирательство' });
    const bySubject = await gw(`query($id: ID!) { erasureActs(subjectId: $id) { id subjectId decisionNote } }`, { id: subjectId }, { as: 'CHAIRMAN' });
    expect(bySubject.data.erasureActs).toEqual([{ id: act, subjectId, decisionNote: 'Идёт судебное разбирательство' }]);
    const ACTS = `query($after: String) { erasureActs(first: 1, after: $after) { id cursor } }`;
    const first = await gw(ACTS, {}, { as: 'AUDITOR' });
    const second = await gw(ACTS, { after: first.data.erasureActs[0].cursor }, { as: 'AUDITOR' });
    expect(second.data.erasureActs).toHaveLength(1);
    expect(second.data.erasureActs[0].id).not.toBe(first.data.erasureActs[0].id);
    const third = await gw(ACTS, { after: second.data.erasureActs[0].cursor }, { as: 'AUDITOR' });
    expect(third.data.erasureActs).toEqual([]);
  });

  test('a person learns where their appeal stands with its reference and their IIN — and nothing else', async () => {
    const system: System = await startSystem({ gateway: { limits: { statusLookupsPerMinute: 6 } } });
    try {
      const iin = makeIin('1992-09-30', 'M', 321);
      const res = await graphql(system.url, SUBMIT, { input: form({ iin }) });
      const { id, reference, deadline } = res.data.submitAppeal.appeal;
      await settled(system, id);
      const gw: Gw = (q, v) => graphql(system.url, q, v);
      expect((await gw(STATUS, { ref: reference, iin })).data.appealStatus).toEqual({ reference, status: 'NEW', deadline });
      expect((await gw(STATUS, { ref: reference.toLowerCase(), iin })).data.appealStatus).toEqual({ reference, status: 'NEW', deadline });
      // A wrong IIN and an unknown reference look the same: null, no error, no hint.
      const wrong = await gw(STATUS, { ref: reference, iin: makeIin('1992-09-30', 'M', 322) });
      const unknown = await gw(STATUS, { ref: 'APL-2026-999999', iin });
      const garbage = await gw(STATUS, { ref: 'x', iin: '12' });
      for (const r of [wrong, unknown, garbage]) expect(r).toMatchObject({ status: 200, data: { appealStatus: null } });
      expect((await gw(STATUS, { ref: reference, iin })).status).toBe(200);
      const limited = await gw(STATUS, { ref: reference, iin });
      expect(limited.status).toBe(429);
      expect(limited.errors?.[0]?.extensions?.code).toBe('RATE_LIMITED');
      // Every lookup is in the audit: the match as a read, the misses as denied attempts.
      await eventually(
        async () => {
          const rows = await system.db('audit').selectFrom('audit_log').select(['event_type', 'details']).execute();
          const reads = rows.filter((r) => r.event_type === 'pd.accessed' && JSON.stringify(r.details).includes('appeal_status'));
          const misses = rows.filter((r) => r.event_type === 'access.denied' && JSON.stringify(r.details).includes('appeal.status'));
          return reads.length >= 3 && misses.length >= 3;
        },
        15_000,
        'status lookups audited',
      );
    } finally {
      await system.destroy();
    }
  });
});
