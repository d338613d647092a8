import { kazakhstanToday, type Role } from '@pdp/shared';
import { eventually, makeIin } from '@pdp/shared/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphql, type GraphQLResponse } from '../support/client';
import { startSystem } from '../support/fixtures';
import { form, settled, SUBMIT } from '../support/intake';
import type { System } from '../support/system';

/**
 * Consent as evidence (clauses 5.1–5.3, 6.1.6, 8.1, 8.3; Art. 8(4) of the Law), through the gateway:
 * what each consent keeps of how it was given, what the public forms state before the box is ticked,
 * and how a template version is approved and published in both languages. Each bad argument is
 * named on its own, in Kazakh or Russian, and nothing is stored.
 */
let system: System;
let base: string;
beforeAll(async () => {
  system = await startSystem();
  base = system.url.replace(/\/graphql$/, '');
});
afterAll(async () => {
  await system?.destroy();
});

async function gw(query: string, variables: Record<string, unknown> = {}, as?: Role, locale?: 'kk' | 'ru'): Promise<GraphQLResponse> {
  const token = as ? await system.tokenFor([as], { sub: `${as.toLowerCase()}-evidence` }) : undefined;
  return graphql(system.url, query, variables, { token, headers: locale ? { 'accept-language': locale } : {} });
}

const CONSENTS = `query($id: ID!) { subject(id: $id) { consents { id templateCode templateVersion channel policyVersion document signedOn
  evidence { document enteredBy } } contracts { consentForm contractDate consentDate } } }`;
const REGISTER_COUNTERPARTY = `mutation($input: CounterpartyInput!) { registerCounterparty(input: $input) { id } }`;
const REGISTER_APPEAL = `mutation($input: PaperAppealInput!) { registerAppeal(input: $input) { id } }`;
const PUBLICATION = `mutation($id: ID!, $granted: Boolean!, $document: String) {
  setPublicationConsent(subjectId: $id, granted: $granted, locale: RU, document: $document) { id granted document signedOn } }`;
const PUBLISH = `mutation($code: String!, $locale: Locale!, $body: String!, $effectiveFrom: String!, $approvalOrder: ApprovalOrderInput!) {
  publishConsentTemplate(code: $code, locale: $locale, title: "Политика конфиденциальности", body: $body, effectiveFrom: $effectiveFrom, approvalOrder: $approvalOrder) {
    code version locale bothLanguages effectiveFrom approvalOrder { number date } } }`;
const TEMPLATE = `query($code: String!, $locale: Locale!) { consentTemplate(code: $code, locale: $locale) {
  version operatorName operatorBin dataItems term thirdPartyTransfer crossBorderTransfer publicSources approvalOrder { number date } bothLanguages } }`;

const iin = (serial: number) => makeIin('1986-06-12', 'F', serial + Math.floor(Math.random() * 5000));
const POLICY_BODY = 'Политика конфиденциальности Палаты: какие данные мы собираем, зачем и как долго храним.';

async function submit(overrides: Record<string, unknown> = {}) {
  const res = await gw(SUBMIT, { input: form({ iin: iin(1), locale: 'RU', ...overrides }) });
  expect(res.errors).toBeUndefined();
  return settled(system, res.data.submitAppeal.appeal.id);
}
async function consentsOf(subjectId: string, as: Role = 'DPO') {
  const res = await gw(CONSENTS, { id: subjectId }, as);
  expect(res.errors).toBeUndefined();
  return res.data.subject;
}
async function storedConsents() {
  return (await system.db('consents').selectFrom('consents').select('id').execute()).length;
}
async function storedTemplates() {
  return (await system.db('consents').selectFrom('consent_templates').select('code').execute()).length;
}
function counterparty(overrides: Record<string, unknown> = {}) {
  return {
    iin: iin(2),
    fullName: 'Жанабаева Гүлнар',
    contractNumber: 'Д-31/2026',
    contractDate: '2026-10-01',
    consentForm: 'SEPARATE_DOCUMENT',
    consentDocument: 'Согласие № 12 от 05.10.2026',
    consentDate: '2026-10-05',
    obligations: [],
    locale: 'RU',
    ...overrides,
  };
}

describe('consent evidence (5.1–5.3, 6.1.6)', () => {
  it('5.3: the privacy-policy version the form showed is stored with the consent; a page opened before a new version keeps the old one', async () => {
    const first = await submit({ policyVersion: 1 });
    expect((await consentsOf(first)).consents[0]).toMatchObject({ templateCode: 'ANNEX2_APPLICANT', policyVersion: 1, signedOn: null });
    // Version 2 of the policy takes effect now, in both languages.
    const order = { number: '52-п', date: kazakhstanToday() };
    for (const locale of ['RU', 'KK']) {
      const res = await gw(PUBLISH, { code: 'PRIVACY_POLICY', locale, body: POLICY_BODY, effectiveFrom: kazakhstanToday(), approvalOrder: order }, 'DPO');
      expect(res.errors).toBeUndefined();
    }
    const stale = await submit({ policyVersion: 1 });
    expect((await consentsOf(stale)).consents[0].policyVersion).toBe(1);
    const fresh = await submit({ policyVersion: 2 });
    expect((await consentsOf(fresh)).consents[0].policyVersion).toBe(2);
    // A client that names none, or a version no page can have shown, gets the one in force recorded.
    expect((await consentsOf(await submit())).consents[0].policyVersion).toBe(2);
    expect((await consentsOf(await submit({ policyVersion: 9 }))).consents[0].policyVersion).toBe(2);
  });

  it('5.3 (bad input): a policy version that is no positive number is refused at its field, nothing stored', async () => {
    const before = await storedConsents();
    for (const policyVersion of [0, -1]) {
      const res = await gw(SUBMIT, { input: form({ iin: iin(3), policyVersion, locale: 'KK' }) }, undefined, 'kk');
      expect(res.errors?.map((e) => [e.extensions?.code, e.extensions?.field])).toEqual([['BAD_USER_INPUT', 'policyVersion']]);
      expect(res.errors?.[0]?.message).toBe('Мән дұрыс емес');
    }
    const wrongType = await gw(SUBMIT, { input: form({ iin: iin(3), policyVersion: 'one' }) });
    expect(wrongType.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(await storedConsents()).toBe(before);
  });

  it('5.2: a separate written consent keeps its own document and date, not the contract’s; a contract clause keeps the contract’s', async () => {
    const separate = (await gw(REGISTER_COUNTERPARTY, { input: counterparty() }, 'CONTRACTS')).data.registerCounterparty.id;
    const held = await eventually(async () => (await consentsOf(separate, 'CONTRACTS')).consents[0], 15_000, 'separate consent');
    expect(held).toMatchObject({
      templateCode: 'COUNTERPARTY_CONTRACT',
      channel: 'SEPARATE_DOCUMENT',
      document: 'Согласие № 12 от 05.10.2026',
      signedOn: '2026-10-05',
      evidence: { document: 'Согласие № 12 от 05.10.2026' },
    });
    expect((await consentsOf(separate, 'CONTRACTS')).contracts).toEqual([
      { consentForm: 'SEPARATE_DOCUMENT', contractDate: '2026-10-01', consentDate: '2026-10-05' },
    ]);

    const clause = (
      await gw(REGISTER_COUNTERPARTY, { input: counterparty({ consentForm: 'CONTRACT_CLAUSE', consentDocument: null, consentDate: null }) }, 'CONTRACTS')
    ).data.registerCounterparty.id;
    const inContract = await eventually(async () => (await consentsOf(clause, 'CONTRACTS')).consents[0], 15_000, 'clause consent');
    expect(inContract).toMatchObject({ channel: 'CONTRACT_CLAUSE', document: 'Д-31/2026', signedOn: '2026-10-01' });
  });

  it('5.2 (bad input): a separate consent without its document and date, a clause with them, a date that is no date: one error per field, nothing stored', async () => {
    const subjects = async () => (await system.db('subjects').selectFrom('subjects').select('id').execute()).length;
    const before = await subjects();
    const missing = await gw(REGISTER_COUNTERPARTY, { input: counterparty({ consentDocument: null, consentDate: null }) }, 'CONTRACTS', 'ru');
    expect(missing.errors?.map((e) => [e.extensions?.field, e.message]).sort()).toEqual([
      ['consentDate', 'Поле обязательно для заполнения'],
      ['consentDocument', 'Поле обязательно для заполнения'],
    ]);
    const clause = await gw(REGISTER_COUNTERPARTY, { input: counterparty({ consentForm: 'CONTRACT_CLAUSE' }) }, 'CONTRACTS', 'kk');
    expect(clause.errors?.map((e) => [e.extensions?.field, e.message]).sort()).toEqual([
      ['consentDate', 'Бұл өріс тек жеке жазбаша келісім үшін толтырылады'],
      ['consentDocument', 'Бұл өріс тек жеке жазбаша келісім үшін толтырылады'],
    ]);
    const notADate = await gw(REGISTER_COUNTERPARTY, { input: counterparty({ consentDate: '2026-02-30', consentDocument: 'x' }) }, 'CONTRACTS', 'ru');
    expect(notADate.errors?.map((e) => [e.extensions?.field, e.extensions?.code]).sort()).toEqual([
      ['consentDate', 'BAD_USER_INPUT'],
      ['consentDocument', 'BAD_USER_INPUT'],
    ]);
    expect(await subjects()).toBe(before);
  });

  it('5.3: a paper Annex 2 keeps the day it was signed, and is on the text in force that day', async () => {
    const input = {
      kind: 'COMPLAINT',
      iin: iin(4),
      description: 'Письмо: коллектор звонит родственникам.',
      channel: 'PAPER',
      consentDocument: 'Приложение 2 № 40 от 12.11.2026',
      consentSignedOn: '2026-11-12',
      locale: 'RU',
    };
    const res = await gw(REGISTER_APPEAL, { input }, 'OPERATOR');
    expect(res.errors).toBeUndefined();
    const subjectId = await settled(system, res.data.registerAppeal.id);
    expect((await consentsOf(subjectId)).consents[0]).toMatchObject({
      templateCode: 'ANNEX2_APPLICANT',
      templateVersion: 1,
      signedOn: '2026-11-12',
      policyVersion: null,
      document: 'Приложение 2 № 40 от 12.11.2026',
      evidence: { enteredBy: 'operator-evidence' },
    });
    const bad = await gw(REGISTER_APPEAL, { input: { ...input, locale: 'KK', consentSignedOn: '2999-01-01' } }, 'OPERATOR', 'kk');
    expect(bad.errors?.map((e) => [e.extensions?.field, e.message])).toEqual([['consentSignedOn', 'Күн бүгіннен кейін болмауы керек']]);
    const missing = await gw(REGISTER_APPEAL, { input: { ...input, consentSignedOn: undefined } }, 'OPERATOR');
    expect(missing.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('6.1.6: a publication decision keeps its signed document; one given later joins the decision already recorded', async () => {
    const subjectId = await submit();
    const granted = await gw(PUBLICATION, { id: subjectId, granted: true, document: 'Заявление о публикации № 5 от 01.12.2026' }, 'DPO');
    expect(granted.errors).toBeUndefined();
    expect(granted.data.setPublicationConsent).toMatchObject({ granted: true, document: 'Заявление о публикации № 5 от 01.12.2026' });
    const refused = await gw(PUBLICATION, { id: subjectId, granted: false }, 'DPO');
    expect(refused.data.setPublicationConsent).toMatchObject({ granted: false, document: null });
    const later = await gw(PUBLICATION, { id: subjectId, granted: false, document: 'Отказ № 6 от 02.12.2026' }, 'DPO');
    expect(later.data.setPublicationConsent).toMatchObject({ id: refused.data.setPublicationConsent.id, document: 'Отказ № 6 от 02.12.2026' });
    const before = await storedConsents();
    const bad = await gw(PUBLICATION, { id: subjectId, granted: true, document: ' ' }, 'DPO', 'ru');
    expect(bad.errors?.map((e) => [e.extensions?.code, e.extensions?.field])).toEqual([['BAD_USER_INPUT', 'document']]);
    expect(await storedConsents()).toBe(before);
  });
});

describe('consent texts: approval and languages (8.1, 8.3; Art. 8(4))', () => {
  it('8.3: a version records the order that approved it; 8.1: Kazakh and Russian take effect together or not at all', async () => {
    const order = { number: '60-п', date: kazakhstanToday() };
    const code = 'PUBLICATION';
    const ru = await gw(PUBLISH, { code, locale: 'RU', body: `${POLICY_BODY} Публикация.`, effectiveFrom: kazakhstanToday(), approvalOrder: order }, 'DPO');
    expect(ru.data.publishConsentTemplate).toMatchObject({ version: 2, bothLanguages: false, approvalOrder: order });
    // Alone, it is in force nowhere.
    expect((await gw(TEMPLATE, { code, locale: 'RU' })).data.consentTemplate.version).toBe(1);
    // Its language cannot move on before the other catches up.
    const ahead = await gw(PUBLISH, { code, locale: 'RU', body: `${POLICY_BODY} Ещё.`, effectiveFrom: kazakhstanToday(), approvalOrder: order }, 'DPO', 'ru');
    expect(ahead.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', reason: 'TEMPLATE_AWAITING_PAIR' });
    // The other language under another order is refused at each field that differs.
    const other = await gw(
      PUBLISH,
      {
        code,
        locale: 'KK',
        body: 'Жариялауға келісім мәтіні, жаңа редакция.',
        effectiveFrom: kazakhstanToday(),
        approvalOrder: { number: '61-п', date: '2026-11-30' },
      },
      'DPO',
      'ru',
    );
    expect(other.errors?.map((e) => [e.extensions?.field, e.message]).sort()).toEqual([
      ['approvalOrder.date', 'Должно совпадать с версией на другом языке: тот же приказ, та же дата'],
      ['approvalOrder.number', 'Должно совпадать с версией на другом языке: тот же приказ, та же дата'],
    ]);
    const kk = await gw(
      PUBLISH,
      { code, locale: 'KK', body: 'Жариялауға келісім мәтіні, жаңа редакция.', effectiveFrom: kazakhstanToday(), approvalOrder: order },
      'DPO',
    );
    expect(kk.data.publishConsentTemplate).toMatchObject({ version: 2, bothLanguages: true });
    for (const locale of ['RU', 'KK']) {
      expect((await gw(TEMPLATE, { code, locale })).data.consentTemplate).toMatchObject({ version: 2, approvalOrder: order, bothLanguages: true });
    }
    // The regulation's own texts: approved with it by order No. 21 of 30 Nov 2020.
    expect((await gw(TEMPLATE, { code: 'ANNEX2_APPLICANT', locale: 'KK' })).data.consentTemplate.approvalOrder).toEqual({ number: '21', date: '2020-11-30' });
  });

  it('8.3 (bad input): an order with no number or a date that is no date, or to come, names each field; nothing is published', async () => {
    const before = await storedTemplates();
    const bad = await gw(
      PUBLISH,
      { code: 'ANNEX1_EMPLOYEE', locale: 'RU', body: POLICY_BODY, effectiveFrom: kazakhstanToday(), approvalOrder: { number: '', date: '2026-02-30' } },
      'DPO',
      'kk',
    );
    expect(bad.errors?.map((e) => [e.extensions?.field, e.message]).sort()).toEqual([
      ['approvalOrder.date', 'Күн ЖЖЖЖ-АА-КК түріндегі нақты күн болуы керек'],
      ['approvalOrder.number', 'Өріс толтырылуы керек'],
    ]);
    const future = await gw(
      PUBLISH,
      { code: 'ANNEX1_EMPLOYEE', locale: 'RU', body: POLICY_BODY, effectiveFrom: kazakhstanToday(), approvalOrder: { number: '70', date: '2999-01-01' } },
      'DPO',
      'ru',
    );
    expect(future.errors?.map((e) => [e.extensions?.field, e.message])).toEqual([['approvalOrder.date', 'Дата не может быть позже сегодняшней']]);
    const none = await gw(PUBLISH.replace(', $approvalOrder: ApprovalOrderInput!', '').replace(', approvalOrder: $approvalOrder', ''), {
      code: 'ANNEX1_EMPLOYEE',
      locale: 'RU',
      body: POLICY_BODY,
      effectiveFrom: kazakhstanToday(),
    });
    expect(none.errors?.length).toBeGreaterThan(0);
    expect(await storedTemplates()).toBe(before);
  });

  it('Art. 8(4): the public form states the operator and BIN, the data, the term and the transfers of the text in force, in the page’s language', async () => {
    for (const [lang, locale, heading, no] of [
      ['kk', 'KK', 'Келісімнің мазмұны (Заңның 8-бабының 4-тармағы)', 'Жоқ'],
      ['ru', 'RU', 'Содержание согласия (пункт 4 статьи 8 Закона)', 'Нет'],
    ] as const) {
      const template = (await gw(TEMPLATE, { code: 'ANNEX2_APPLICANT', locale })).data.consentTemplate;
      const html = await (await fetch(`${base}/forms/complaint?lang=${lang}`)).text();
      expect(html).toContain(heading);
      const dd = (name: string) => new RegExp(`<dd data-content="${name}">([\\s\\S]*?)</dd>`).exec(html)?.[1];
      expect(dd('operatorName')).toBe(template.operatorName.replace(/"/g, '&quot;'));
      expect(dd('operatorBin')).toBe(template.operatorBin);
      expect(dd('dataItems')).toBe(`<ul>${template.dataItems.map((d: string) => `<li>${d}</li>`).join('')}</ul>`);
      expect(dd('term')).toBe(template.term);
      expect(dd('crossBorderTransfer')).toBe(no);
      expect(html).toMatch(/<input type="hidden" name="policyVersion" value="\d+">/);
    }
  });
});
