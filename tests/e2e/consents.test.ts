import { existsSync, readFileSync } from 'node:fs';
import { kazakhstanToday, type Role } from '@pdp/shared';
import { eventually, makeIin } from '@pdp/shared/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphql, type GraphQLResponse } from '../support/client';
import { startSystem } from '../support/fixtures';
import { form, intakeSubject, settled, SUBMIT } from '../support/intake';
import type { System } from '../support/system';

/**
 * Consents, employees and counterparties (issue 8) end to end through the gateway: the templates
 * with their Art. 8(4) content, HR's employees and CONTRACTS' counterparties, withdrawal refused
 * while an obligation is open and spreading to every holder once allowed, publication consent, and
 * who may read whose consent. One platform for the file, with a zero retention term swept often, so
 * an achieved purpose leads to a proposed erasure act within moments.
 */
let system: System;
beforeAll(async () => {
  system = await startSystem({ retentionDays: 0, retentionSweepMs: 200 });
});
afterAll(async () => {
  await system?.destroy();
});

async function gw(query: string, variables: Record<string, unknown> = {}, as?: Role, locale?: 'kk' | 'ru'): Promise<GraphQLResponse> {
  const token = as ? await system.tokenFor([as], { sub: `${as.toLowerCase()}-issue8` }) : undefined;
  return graphql(system.url, query, variables, { token, headers: locale ? { 'accept-language': locale } : {} });
}

const TEMPLATES = `query($locale: Locale) { consentTemplates(locale: $locale) {
  code version locale title body effectiveFrom operatorName operatorBin purpose dataItems term thirdPartyTransfer crossBorderTransfer publicSources } }`;
const PUBLISH = `mutation($code: String!, $locale: Locale!, $title: String!, $body: String!, $effectiveFrom: String!, $approvalOrder: ApprovalOrderInput!) {
  publishConsentTemplate(code: $code, locale: $locale, title: $title, body: $body, effectiveFrom: $effectiveFrom, approvalOrder: $approvalOrder) {
    code version locale effectiveFrom purpose bothLanguages approvalOrder { number date } } }`;
/** The Chairman's order approving a new version (8.3). */
const ORDER = { number: '45-п', date: '2026-12-01' };
const SUBJECT = `query($id: ID!) { subject(id: $id) {
  id status categories purposes { code state reference } sources { code }
  employments { id fullName position signedAt endedOn consent { id status } }
  contracts { id fullName contractNumber contractDate consentForm consent { id } }
  publicationConsent { granted consentId decidedAt }
  consents { id templateCode templateVersion locale channel status granted purpose evidence { document enteredBy }
    template { version body } obligations { id description dueDate fulfilledAt }
    withdrawalReceipts { service appliedAt } } } }`;
const CONSENTS = `query($id: ID!) { subject(id: $id) { consents { id templateCode templateVersion status template { version body }
  obligations { id fulfilledAt } withdrawalReceipts { service appliedAt } } publicationConsent { granted consentId } } }`;
const REGISTER_EMPLOYEE = `mutation($input: EmployeeInput!) { registerEmployee(input: $input) {
  id categories purposes { code state } sources { code } employments { fullName position signedAt } } }`;
const END = `mutation($id: ID!, $on: String!) { endEmployment(subjectId: $id, endedOn: $on) { id purposes { code state } employments { endedOn } } }`;
const REGISTER_COUNTERPARTY = `mutation($input: CounterpartyInput!) { registerCounterparty(input: $input) {
  id categories purposes { code state } contracts { contractNumber consentForm } } }`;
const WITHDRAW = `mutation($id: ID!, $reason: String!) { withdrawConsent(consentId: $id, reason: $reason) { id status withdrawnBy withdrawalReason } }`;
const FULFIL = `mutation($id: ID!) { fulfilObligation(obligationId: $id) { id description dueDate fulfilledAt } }`;
const PUBLICATION = `mutation($id: ID!, $granted: Boolean!, $locale: Locale!) { setPublicationConsent(subjectId: $id, granted: $granted, locale: $locale) { id templateCode granted status } }`;
const REPORT = `query($id: ID!) { accessReport(subjectId: $id) { categories methods publicationConsent { granted } consentsHolding { records } subjectsHolding { dataItems } } }`;
const ACTS = `query($id: ID!) { erasureActs(subjectId: $id) { id status automatic proposedBy } }`;

const today = () => kazakhstanToday();
const iin = (serial: number) => makeIin('1985-03-21', 'M', serial + Math.floor(Math.random() * 5000));

function employee(overrides: Record<string, unknown> = {}) {
  return {
    iin: iin(1),
    fullName: 'Сериков Арман Болатұлы',
    position: 'Бас маман',
    consentDocument: 'Приложение 1 № 7/2026 от 02.11.2026',
    signedAt: '2026-11-02',
    locale: 'KK',
    ...overrides,
  };
}

function counterparty(overrides: Record<string, unknown> = {}) {
  return {
    iin: iin(2),
    fullName: 'Жанабаева Гүлнар Маратқызы',
    contractNumber: 'Д-115/2026',
    contractDate: '2026-10-01',
    consentForm: 'CONTRACT_CLAUSE',
    obligations: [
      { description: 'Сдать отчёт об оказанных услугах', dueDate: '2026-12-15' },
      { description: 'Передать акт выполненных работ', dueDate: '2027-01-20' },
    ],
    locale: 'RU',
    ...overrides,
  };
}

async function consentsOf(subjectId: string, as: Role = 'DPO', count = 1) {
  return eventually(
    async () => {
      const res = await gw(SUBJECT, { id: subjectId }, as);
      return res.data?.subject?.consents?.length >= count ? res.data.subject : undefined;
    },
    15_000,
    'consent recorded',
  );
}

async function receiptsOf(subjectId: string, consentId: string) {
  return eventually(
    async () => {
      const res = await gw(CONSENTS, { id: subjectId }, 'DPO');
      const consent = res.data?.subject?.consents.find((c: { id: string }) => c.id === consentId);
      const receipts = consent?.withdrawalReceipts as Array<{ service: string; appliedAt: string | null }> | undefined;
      return receipts && receipts.length === 3 && receipts.every((r) => r.appliedAt) ? receipts : undefined;
    },
    20_000,
    'a receipt from every holder',
  );
}

async function proposedAct(subjectId: string) {
  return eventually(
    async () => {
      const res = await gw(ACTS, { id: subjectId }, 'DPO');
      return res.data?.erasureActs?.find((a: { status: string }) => a.status === 'PROPOSED');
    },
    15_000,
    'erasure proposed by retention',
  );
}

/** Every outbox payload and audit entry of the platform, as text: none may hold a value of personal data. */
async function everyEventText(): Promise<string> {
  const parts: string[] = [];
  for (const name of ['subjects', 'appeals', 'consents'] as const) {
    const rows = await system.platformDb(name).selectFrom('outbox').select('payload').where('subject', 'like', '%.events.%').execute();
    parts.push(...rows.map((r) => JSON.stringify(r.payload)));
  }
  const audit = await system.db('audit').selectFrom('audit_log').selectAll().execute();
  parts.push(...audit.map((r) => JSON.stringify(r)));
  return parts.join('\n');
}

describe('templates (Art. 8(4), 8.3)', () => {
  it('all five are public in both languages with their content; Annexes 1 and 2 are the regulation verbatim', async () => {
    const all = await gw(TEMPLATES);
    expect(all.errors).toBeUndefined();
    const list = all.data.consentTemplates as Array<Record<string, any>>;
    const codes = ['ANNEX1_EMPLOYEE', 'ANNEX2_APPLICANT', 'COUNTERPARTY_CONTRACT', 'PRIVACY_POLICY', 'PUBLICATION'];
    expect(list.map((t) => `${t.code}:${t.locale}`).sort()).toEqual(codes.flatMap((c) => [`${c}:KK`, `${c}:RU`]));
    for (const t of list) {
      expect(t.operatorBin).toMatch(/^\d{12}$/);
      expect(t.operatorName).toMatch(t.locale === 'KK' ? /Қазақстанның ұлттық коллекторлар палатасы/ : /Национальная палата коллекторов Казахстана/);
      for (const field of ['title', 'body', 'purpose', 'term']) expect(t[field], `${t.code} ${t.locale} ${field}`).toMatch(/\p{Script=Cyrillic}{3}/u);
      expect(t.dataItems.length).toBeGreaterThan(0);
      expect(t.crossBorderTransfer).toBe(false); // 3.3: used within Kazakhstan
    }
    // The regulation's own file sits beside the checkout (../shared/seed); a clone elsewhere checks the rest.
    const seedFile = new URL('../../../shared/seed/000_583fa3bd98e3ee33.txt', import.meta.url);
    if (existsSync(seedFile)) {
      const seed = readFileSync(seedFile, 'utf8').replace(/\s+/g, ' ');
      for (const code of ['ANNEX1_EMPLOYEE', 'ANNEX2_APPLICANT']) {
        for (const t of list.filter((x) => x.code === code))
          expect(seed, `${code} ${t.locale} verbatim`).toContain(t.body.replace(/\s+/g, ' ').replace(/\/$/, ''));
      }
    }
    expect(list.find((t) => t.code === 'PUBLICATION')?.publicSources).toBe(true);
    expect(list.find((t) => t.code === 'ANNEX2_APPLICANT')?.thirdPartyTransfer).toBe(true);
    const kk = await gw(TEMPLATES, { locale: 'KK' });
    expect(kk.data.consentTemplates.map((t: { locale: string }) => t.locale)).toEqual(Array(5).fill('KK'));
  });

  it('a new version takes effect on its date and leaves earlier consents on the text they saw', async () => {
    const before = await intakeSubject(system);
    const body = 'Обращаясь в Палату, даю согласие на сбор и обработку моих персональных данных (редакция 2).';
    const refused = await gw(
      PUBLISH,
      { approvalOrder: ORDER, code: 'ANNEX2_APPLICANT', locale: 'RU', title: 'Согласие', body, effectiveFrom: today() },
      'OPERATOR',
    );
    expect(refused.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const bad = await gw(PUBLISH, { approvalOrder: ORDER, code: 'ANNEX9', locale: 'RU', title: '', body, effectiveFrom: '2020-01-01' }, 'DPO');
    expect(bad.errors?.map((e) => [e.extensions?.field, e.extensions?.code]).sort()).toEqual([
      ['code', 'BAD_USER_INPUT'],
      ['effectiveFrom', 'BAD_USER_INPUT'],
      ['title', 'BAD_USER_INPUT'],
    ]);
    // A date that is no date says so (date.invalid), in the caller's language; a past one, date.past.
    for (const effectiveFrom of ['not-a-date', '2026-02-30', '2026-13-01T00:00:00+05:00']) {
      const wrong = await gw(PUBLISH, { approvalOrder: ORDER, code: 'ANNEX2_APPLICANT', locale: 'RU', title: 'Согласие', body, effectiveFrom }, 'DPO');
      expect(wrong.errors?.map((e) => [e.extensions?.field, e.message])).toEqual([
        ['effectiveFrom', 'Дата должна быть существующей датой в формате ГГГГ-ММ-ДД'],
      ]);
    }
    expect(bad.errors?.find((e) => e.extensions?.field === 'effectiveFrom')?.message).not.toBe('Дата должна быть существующей датой в формате ГГГГ-ММ-ДД');
    const published = await gw(
      PUBLISH,
      { approvalOrder: ORDER, code: 'ANNEX2_APPLICANT', locale: 'RU', title: 'Согласие на сбор и обработку персональных данных', body, effectiveFrom: today() },
      'DPO',
    );
    expect(published.errors).toBeUndefined();
    expect(published.data.publishConsentTemplate).toMatchObject({ code: 'ANNEX2_APPLICANT', version: 2, locale: 'RU', approvalOrder: ORDER });
    // The content of Art. 8(4) carries over from version 1 when not given.
    expect(published.data.publishConsentTemplate.purpose).toMatch(/жалобы или обращения/);
    // Not in force until its Kazakh version is published too (8.1, 8.3).
    expect(published.data.publishConsentTemplate.bothLanguages).toBe(false);
    expect((await gw(`{ consentTemplate(code: "ANNEX2_APPLICANT", locale: RU) { version } }`)).data.consentTemplate.version).toBe(1);
    const kkBody = 'Палатаға жүгіне отырып, дербес деректерімді жинауға және өңдеуге келісім беремін (2-редакция).';
    const kk = await gw(
      PUBLISH,
      { approvalOrder: ORDER, code: 'ANNEX2_APPLICANT', locale: 'KK', title: 'Келісім', body: kkBody, effectiveFrom: today() },
      'DPO',
    );
    expect(kk.data.publishConsentTemplate).toMatchObject({ version: 2, locale: 'KK', bothLanguages: true });
    // One taking effect tomorrow is not in force yet.
    const tomorrow = new Date(Date.now() + 36 * 3600 * 1000).toISOString().slice(0, 10);
    const later = await gw(
      PUBLISH,
      { approvalOrder: ORDER, code: 'ANNEX2_APPLICANT', locale: 'RU', title: 'Согласие (редакция 3)', body: `${body} Редакция 3.`, effectiveFrom: tomorrow },
      'DPO',
    );
    expect(later.data.publishConsentTemplate.version).toBe(3);
    const laterKk = await gw(
      PUBLISH,
      { approvalOrder: ORDER, code: 'ANNEX2_APPLICANT', locale: 'KK', title: 'Келісім (3-редакция)', body: `${kkBody} 3-редакция.`, effectiveFrom: tomorrow },
      'DPO',
    );
    expect(laterKk.data.publishConsentTemplate).toMatchObject({ version: 3, bothLanguages: true });
    const inForce = await gw(`{ consentTemplate(code: "ANNEX2_APPLICANT", locale: RU) { version body } }`);
    expect(inForce.data.consentTemplate).toEqual({ version: 2, body });

    const after = await intakeSubject(system);
    const old = await consentsOf(before.subjectId);
    expect(old.consents[0]).toMatchObject({ templateCode: 'ANNEX2_APPLICANT', templateVersion: 1, template: { version: 1 } });
    expect(old.consents[0].template.body).toMatch(/^Обращаясь в ОЮЛ в форме союза/);
    const fresh = await consentsOf(after.subjectId);
    expect(fresh.consents[0]).toMatchObject({ templateVersion: 2, template: { version: 2, body } });
  });
});

describe('employees (3.1.1, 5.1)', () => {
  it('HR registers one with the signed Annex 1; only HR, DPO and AUDITOR see them; no PD in any event', async () => {
    const bad = await gw(REGISTER_EMPLOYEE, { input: employee({ iin: '123', fullName: '', signedAt: '2999-01-01', consentDocument: '' }) }, 'HR', 'kk');
    expect(bad.errors?.map((e) => e.extensions?.field).sort()).toEqual(['consentDocument', 'fullName', 'iin', 'signedAt']);
    expect(bad.errors?.find((e) => e.extensions?.field === 'signedAt')?.message).toBe('Күн бүгіннен кейін болмауы керек');
    expect((await gw(REGISTER_EMPLOYEE, { input: employee() }, 'OPERATOR')).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');

    const input = employee();
    const res = await gw(REGISTER_EMPLOYEE, { input }, 'HR');
    expect(res.errors).toBeUndefined();
    const subject = res.data.registerEmployee;
    expect(subject).toMatchObject({
      categories: ['EMPLOYEE'],
      purposes: [{ code: 'LABOUR_RELATIONS', state: 'ACTIVE' }],
      sources: [{ code: 'HR' }],
      employments: [{ fullName: input.fullName, position: input.position, signedAt: input.signedAt }],
    });
    const held = await consentsOf(subject.id, 'HR');
    expect(held.consents[0]).toMatchObject({
      templateCode: 'ANNEX1_EMPLOYEE',
      templateVersion: 1,
      locale: 'KK',
      channel: 'PAPER',
      status: 'ACTIVE',
      purpose: 'LABOUR_RELATIONS',
      evidence: { document: input.consentDocument, enteredBy: 'hr-issue8' },
      obligations: [],
    });
    expect(held.employments[0].consent).toEqual({ id: held.consents[0].id, status: 'ACTIVE' });

    for (const role of ['OPERATOR', 'CONTRACTS'] as const) {
      const denied = await gw(SUBJECT, { id: subject.id }, role);
      expect(denied.errors?.[0]?.extensions?.code, role).toBe('FORBIDDEN');
      expect(denied.data?.subject ?? null).toBeNull();
    }
    for (const role of ['DPO', 'AUDITOR'] as const)
      expect((await gw(SUBJECT, { id: subject.id }, role)).data.subject.employments[0].fullName).toBe(input.fullName);

    const stored = await system.db('subjects').selectFrom('employments').selectAll().executeTakeFirstOrThrow();
    expect(JSON.stringify(stored)).not.toContain(input.fullName);
    const events = await everyEventText();
    for (const value of [input.iin, input.fullName, input.position, input.consentDocument]) expect(events).not.toContain(value);
    expect(events).toContain('employee.registered');
  });

  it('the consent of a registration just made is null for a moment, then there — never a null list or library text', async () => {
    const query = `mutation($input: EmployeeInput!) { registerEmployee(input: $input) { id employments { fullName consent { id status } } } }`;
    const res = await gw(query, { input: employee() }, 'HR', 'kk');
    expect(res.errors).toBeUndefined();
    expect(JSON.stringify(res)).not.toMatch(/valueCompletion|Cannot return null/);
    const [employment] = res.data.registerEmployee.employments;
    expect(employment.fullName).toBe('Сериков Арман Болатұлы');
    // consents records it within moments of the registration's event.
    expect(employment.consent === null || employment.consent.status === 'ACTIVE').toBe(true);
    const later = await eventually(
      async () => {
        const r = await gw(`query($id: ID!) { subject(id: $id) { employments { consent { status } } } }`, { id: res.data.registerEmployee.id }, 'HR');
        return r.data?.subject?.employments?.[0]?.consent ?? undefined;
      },
      15_000,
      'the consent recorded',
    );
    expect(later).toEqual({ status: 'ACTIVE' });
  });

  it('endEmployment achieves LABOUR_RELATIONS, and retention proposes the erasure act', async () => {
    const { id } = (await gw(REGISTER_EMPLOYEE, { input: employee() }, 'HR')).data.registerEmployee;
    expect((await gw(END, { id, on: '2999-01-01' }, 'HR')).errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'endedOn' });
    expect((await gw(END, { id, on: today() }, 'OPERATOR')).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const ended = await gw(END, { id, on: today() }, 'HR');
    expect(ended.errors).toBeUndefined();
    expect(ended.data.endEmployment).toMatchObject({ purposes: [{ code: 'LABOUR_RELATIONS', state: 'ACHIEVED' }], employments: [{ endedOn: today() }] });
    const again = await gw(END, { id, on: today() }, 'HR', 'ru');
    expect(again.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', reason: 'NO_ACTIVE_EMPLOYMENT' });
    const act = await proposedAct(id);
    expect(act).toMatchObject({ automatic: true, proposedBy: 'system:retention' });
    // The CHAIRMAN approves: every holder erases and confirms; name and position are gone everywhere.
    expect((await gw(`mutation($id: ID!) { approveErasure(actId: $id) { status } }`, { id: act.id }, 'CHAIRMAN')).data.approveErasure.status).toBe('APPROVED');
    await eventually(
      async () => {
        const res = await gw(`query($id: ID!) { erasureAct(id: $id) { status } }`, { id: act.id }, 'DPO');
        return res.data?.erasureAct?.status === 'COMPLETED';
      },
      20_000,
      'the act completed',
    );
    expect(await system.db('subjects').selectFrom('employments').select('id').where('subject_id', '=', id).execute()).toEqual([]);
    const consents = await system
      .db('consents')
      .selectFrom('consents')
      .select(['subject_id', 'document_enc', 'purpose_reference'])
      .where('purpose_code', '=', 'LABOUR_RELATIONS')
      .execute();
    expect(consents.filter((c) => c.subject_id === id)).toEqual([]);
  });

  it('an OPERATOR handling the appeal of a person who is also an employee never reads the employment or its consent', async () => {
    const input = employee();
    const { id } = (await gw(REGISTER_EMPLOYEE, { input }, 'HR')).data.registerEmployee;
    await consentsOf(id, 'HR');
    const submitted = await graphql(system.url, SUBMIT, { input: form({ iin: input.iin }) });
    const appealId = submitted.data.submitAppeal.appeal.id;
    expect(await settled(system, appealId)).toBe(id);
    const res = await gw(`query($id: ID!) { appeal(id: $id) { subject { id categories consents { templateCode } } } }`, { id: appealId }, 'OPERATOR');
    // The operator sees the category its purpose covers, not that the person is an employee.
    expect(res.data.appeal.subject.categories).toEqual(['APPLICANT']);
    expect(res.data.appeal.subject.consents).toEqual([{ templateCode: 'ANNEX2_APPLICANT' }]);
    const employments = await gw(`query($id: ID!) { subject(id: $id) { employments { fullName } } }`, { id }, 'OPERATOR');
    expect(employments.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const denied = await eventually(
      async () => {
        const rows = await system
          .db('audit')
          .selectFrom('audit_log')
          .select(['source', 'details'])
          .where('subject_id', '=', id)
          .where('event_type', '=', 'access.denied')
          .execute();
        const reasons = rows.map((r) => `${r.source}:${(r.details as { operation: string }).operation}:${(r.details as { reason: string }).reason}`);
        return reasons.includes('consents:Subject.consents:PURPOSE') && reasons.includes('subjects:Subject.employments:PURPOSE') ? reasons : undefined;
      },
      15_000,
      'PURPOSE denials in the audit',
    );
    expect(denied).toBeDefined();
  });
});

describe('counterparties (3.1.2, 5.2) and withdrawal (6.1.5, Art. 8(2))', () => {
  it("withdrawal is refused, naming the open obligations in the caller's language, until they are fulfilled; then every holder confirms", async () => {
    const input = counterparty();
    const bad = await gw(
      REGISTER_COUNTERPARTY,
      { input: counterparty({ contractDate: '2026-02-30', obligations: [{ description: '', dueDate: 'soon' }] }) },
      'CONTRACTS',
    );
    expect(bad.errors?.map((e) => e.extensions?.field).sort()).toEqual(['contractDate', 'obligations.0.description', 'obligations.0.dueDate']);
    const res = await gw(REGISTER_COUNTERPARTY, { input }, 'CONTRACTS');
    expect(res.errors).toBeUndefined();
    const subject = res.data.registerCounterparty;
    expect(subject).toMatchObject({
      categories: ['COUNTERPARTY'],
      purposes: [{ code: 'CONTRACT_PERFORMANCE', state: 'ACTIVE' }],
      contracts: [{ contractNumber: input.contractNumber, consentForm: 'CONTRACT_CLAUSE' }],
    });
    expect((await gw(SUBJECT, { id: subject.id }, 'HR')).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const held = await consentsOf(subject.id, 'CONTRACTS');
    const consent = held.consents[0];
    expect(consent).toMatchObject({ templateCode: 'COUNTERPARTY_CONTRACT', channel: 'CONTRACT_CLAUSE', evidence: { document: input.contractNumber } });
    expect(consent.obligations.map((o: { description: string; dueDate: string }) => [o.description, o.dueDate])).toEqual(
      input.obligations.map((o) => [o.description, o.dueDate]),
    );
    const [first, second] = consent.obligations as Array<{ id: string }>;

    const refusedRu = await gw(WITHDRAW, { id: consent.id, reason: 'Заявление субъекта от 20.11.2026' }, 'DPO', 'ru');
    expect(refusedRu.data).toBeNull();
    expect(refusedRu.errors?.[0]?.extensions).toMatchObject({ code: 'CONSENT_WITHDRAWAL_FORBIDDEN', obligationIds: [first!.id, second!.id] });
    expect(refusedRu.errors?.[0]?.message).toMatch(/^Согласие нельзя отозвать: есть неисполненные обязательства — 2 \(срок: 2026-12-15, 2027-01-20\)/);
    const refusedKk = await gw(WITHDRAW, { id: consent.id, reason: 'Субъектінің өтініші' }, 'DPO', 'kk');
    expect(refusedKk.errors?.[0]?.message).toMatch(/^Келісімді кері қайтарып алуға болмайды/);
    expect(JSON.stringify(refusedRu.errors)).not.toContain(input.obligations[0]!.description);

    expect((await gw(FULFIL, { id: first!.id }, 'DPO')).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const fulfilled = await gw(FULFIL, { id: first!.id }, 'CONTRACTS');
    expect(fulfilled.data.fulfilObligation).toMatchObject({ id: first!.id, description: input.obligations[0]!.description });
    expect(fulfilled.data.fulfilObligation.fulfilledAt).toBeTruthy();
    expect((await gw(FULFIL, { id: first!.id }, 'CONTRACTS')).errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', reason: 'OBLIGATION_FULFILLED' });
    const stillRefused = await gw(WITHDRAW, { id: consent.id, reason: 'Заявление субъекта' }, 'DPO');
    expect(stillRefused.errors?.[0]?.extensions).toMatchObject({ code: 'CONSENT_WITHDRAWAL_FORBIDDEN', obligationIds: [second!.id] });
    expect(await system.db('consents').selectFrom('consents').select('withdrawn_at').where('id', '=', consent.id).executeTakeFirst()).toEqual({
      withdrawn_at: null,
    });

    await gw(FULFIL, { id: second!.id }, 'CONTRACTS');
    const withdrawn = await gw(WITHDRAW, { id: consent.id, reason: 'Заявление субъекта от 20.11.2026' }, 'DPO');
    expect(withdrawn.errors).toBeUndefined();
    expect(withdrawn.data.withdrawConsent).toMatchObject({
      id: consent.id,
      status: 'WITHDRAWN',
      withdrawnBy: 'dpo-issue8',
      withdrawalReason: 'Заявление субъекта от 20.11.2026',
    });
    expect((await receiptsOf(subject.id, consent.id)).map((r) => r.service)).toEqual(['subjects', 'appeals', 'consents']);
    expect((await gw(WITHDRAW, { id: consent.id, reason: 'ещё раз' }, 'DPO')).errors?.[0]?.extensions).toMatchObject({
      code: 'CONFLICT',
      reason: 'CONSENT_WITHDRAWN',
    });
    // The contract was performed and the consent withdrawn: nothing else needs the data.
    expect(await proposedAct(subject.id)).toMatchObject({ automatic: true });
    const events = await everyEventText();
    for (const value of [input.iin, input.fullName, input.contractNumber, input.obligations[0]!.description, 'Заявление субъекта'])
      expect(events).not.toContain(value);
  });

  it("an applicant's withdrawal spreads like a block: every holder confirms and the appeal's purpose is achieved", async () => {
    const { subjectId } = await intakeSubject(system);
    const [consent] = (await consentsOf(subjectId)).consents;
    expect((await gw(WITHDRAW, { id: consent.id, reason: 'Заявление субъекта' }, 'OPERATOR')).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const res = await gw(WITHDRAW, { id: consent.id, reason: 'Заявление субъекта' }, 'DPO');
    expect(res.data.withdrawConsent.status).toBe('WITHDRAWN');
    const receipts = await receiptsOf(subjectId, consent.id);
    expect(receipts.map((r) => r.service).sort()).toEqual(['appeals', 'consents', 'subjects']);
    const purposes = (await gw(SUBJECT, { id: subjectId }, 'DPO')).data.subject.purposes;
    expect(purposes).toEqual([expect.objectContaining({ code: 'APPEAL_HANDLING', state: 'ACHIEVED' })]);
    expect(await proposedAct(subjectId)).toMatchObject({ automatic: true, proposedBy: 'system:retention' });
  });
});

describe('publication consent (6.1.6)', () => {
  it('refused by default; a grant and a refusal are recorded, shown on the subject and in the access report', async () => {
    const { subjectId } = await intakeSubject(system);
    expect((await gw(REPORT, { id: subjectId }, 'DPO')).data.accessReport.publicationConsent).toEqual({ granted: false });
    expect((await gw(CONSENTS, { id: subjectId }, 'DPO')).data.subject.publicationConsent).toEqual({ granted: false, consentId: null });
    expect((await gw(PUBLICATION, { id: subjectId, granted: true, locale: 'KK' }, 'HR')).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await gw(PUBLICATION, { id: crypto.randomUUID(), granted: true, locale: 'KK' }, 'DPO')).errors?.[0]?.extensions?.code).toBe('NOT_FOUND');

    const grant = await gw(PUBLICATION, { id: subjectId, granted: true, locale: 'KK' }, 'DPO');
    expect(grant.data.setPublicationConsent).toMatchObject({ templateCode: 'PUBLICATION', granted: true, status: 'ACTIVE' });
    const same = await gw(PUBLICATION, { id: subjectId, granted: true, locale: 'KK' }, 'DPO');
    expect(same.data.setPublicationConsent.id).toBe(grant.data.setPublicationConsent.id);
    expect((await gw(REPORT, { id: subjectId }, 'CHAIRMAN')).data.accessReport.publicationConsent).toEqual({ granted: true });
    expect((await gw(CONSENTS, { id: subjectId }, 'DPO')).data.subject.publicationConsent).toEqual({
      granted: true,
      consentId: grant.data.setPublicationConsent.id,
    });

    const refusal = await gw(PUBLICATION, { id: subjectId, granted: false, locale: 'RU' }, 'DPO');
    expect(refusal.data.setPublicationConsent).toMatchObject({ granted: false, status: 'ACTIVE' });
    expect((await gw(REPORT, { id: subjectId }, 'AUDITOR')).data.accessReport.publicationConsent).toEqual({ granted: false });
    // The grant it replaced is withdrawn like any consent, and every holder confirms.
    expect((await receiptsOf(subjectId, grant.data.setPublicationConsent.id)).length).toBe(3);

    // Granting again ends the refusal: one decision stands, never two ACTIVE ones.
    const regrant = await gw(PUBLICATION, { id: subjectId, granted: true, locale: 'RU' }, 'DPO');
    expect(regrant.data.setPublicationConsent).toMatchObject({ granted: true, status: 'ACTIVE' });
    const publication = await system
      .db('consents')
      .selectFrom('consents')
      .select(['id', 'granted', 'withdrawn_at'])
      .where('subject_id', '=', subjectId)
      .where('template_code', '=', 'PUBLICATION')
      .orderBy('given_at')
      .execute();
    expect(publication.map((c) => [c.id, c.granted, c.withdrawn_at !== null])).toEqual([
      [grant.data.setPublicationConsent.id, true, true],
      [refusal.data.setPublicationConsent.id, false, true],
      [regrant.data.setPublicationConsent.id, true, false],
    ]);
    expect((await gw(CONSENTS, { id: subjectId }, 'DPO')).data.subject.publicationConsent).toEqual({
      granted: true,
      consentId: regrant.data.setPublicationConsent.id,
    });
  });
});
