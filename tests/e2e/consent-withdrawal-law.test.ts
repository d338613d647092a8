import { kazakhstanToday, type Role } from '@pdp/shared';
import { eventually, makeIin } from '@pdp/shared/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphql, type GraphQLResponse } from '../support/client';
import { startSystem } from '../support/fixtures';
import type { System } from '../support/system';

/**
 * Law Art. 8(2) and clause 6.1.5 (issue 22, item 1): an employee's Annex 1 consent cannot be withdrawn
 * while the employment has not ended — the refusal is CONSENT_WITHDRAWAL_FORBIDDEN with reason LAW, in
 * the caller's language, and nothing changes (no withdrawal, no erasure proposed). Once HR ends the
 * employment, the same request succeeds.
 */
let system: System;
beforeAll(async () => {
  // A zero retention term swept often: a withdrawal let through would lead to an erasure act at once.
  system = await startSystem({ retentionDays: 0, retentionSweepMs: 200 });
});
afterAll(async () => {
  await system?.destroy();
});

async function gw(query: string, variables: Record<string, unknown>, as: Role, locale: 'kk' | 'ru' = 'ru'): Promise<GraphQLResponse> {
  const token = await system.tokenFor([as], { sub: `${as.toLowerCase()}-law` });
  return graphql(system.url, query, variables, { token, headers: { 'accept-language': locale } });
}

const REGISTER = `mutation($input: EmployeeInput!) { registerEmployee(input: $input) { id } }`;
const CONSENT = `query($id: ID!) { subject(id: $id) { consents { id templateCode status } } }`;
const WITHDRAW = `mutation($id: ID!, $reason: String!) { withdrawConsent(consentId: $id, reason: $reason) { id status } }`;
const END = `mutation($id: ID!, $on: String!) { endEmployment(subjectId: $id, endedOn: $on) { id } }`;
const ACTS = `query($id: ID!) { erasureActs(subjectId: $id) { id } }`;

async function employee(serial: number): Promise<{ subjectId: string; consentId: string }> {
  const input = {
    iin: makeIin('1984-06-12', 'F', serial + Math.floor(Math.random() * 4000)),
    fullName: 'Омарова Динара Серікқызы',
    position: 'Заңгер',
    consentDocument: 'Приложение 1 № 12/2026 от 01.12.2026',
    signedAt: '2026-12-01',
    locale: 'RU',
  };
  const res = await gw(REGISTER, { input }, 'HR');
  expect(res.errors).toBeUndefined();
  const subjectId = res.data.registerEmployee.id as string;
  const consentId = await eventually(
    async () =>
      ((await gw(CONSENT, { id: subjectId }, 'DPO')).data?.subject?.consents ?? []).find((c: { templateCode: string }) => c.templateCode === 'ANNEX1_EMPLOYEE')
        ?.id as string | undefined,
    15_000,
    'the Annex 1 consent',
  );
  return { subjectId, consentId };
}

describe('withdrawal refused where the law says so (Art. 8(2), 6.1.5)', () => {
  it('Art. 8(2): an employee’s Annex 1 consent cannot be withdrawn while the employment has not ended — LAW, in Kazakh and Russian, nothing changes', async () => {
    const { subjectId, consentId } = await employee(11);
    const ru = await gw(WITHDRAW, { id: consentId, reason: 'Заявление работника от 03.12.2026' }, 'DPO', 'ru');
    expect(ru.errors).toHaveLength(1);
    expect(ru.errors?.[0]?.extensions).toMatchObject({ code: 'CONSENT_WITHDRAWAL_FORBIDDEN', reason: 'LAW' });
    expect(ru.errors?.[0]?.message).toBe(
      'Согласие работника нельзя отозвать, пока трудовые отношения не прекращены: обработку его данных требует трудовое законодательство (пункт 2 статьи 8 Закона, пункт 6.1.5)',
    );
    const kk = await gw(WITHDRAW, { id: consentId, reason: 'Жұмыскердің өтініші' }, 'DPO', 'kk');
    expect(kk.errors?.[0]?.extensions).toMatchObject({ code: 'CONSENT_WITHDRAWAL_FORBIDDEN', reason: 'LAW' });
    expect(kk.errors?.[0]?.message).toMatch(/^Жұмыскердің келісімін еңбек қатынастары тоқтатылғанға дейін/);

    // Still in force, and retention (a zero term, swept every 200 ms) proposes nothing for a working employee.
    const row = await system
      .db('consents')
      .selectFrom('consents')
      .select(['withdrawn_at', 'withdrawal_reason_enc'])
      .where('id', '=', consentId)
      .executeTakeFirst();
    expect(row).toEqual({ withdrawn_at: null, withdrawal_reason_enc: null });
    const status = (await gw(CONSENT, { id: subjectId }, 'DPO')).data.subject.consents.find((c: { id: string }) => c.id === consentId).status;
    expect(status).toBe('ACTIVE');
    await new Promise((r) => setTimeout(r, 1000));
    expect((await gw(ACTS, { id: subjectId }, 'DPO')).data.erasureActs).toEqual([]);
  });

  it('Art. 8(2): once HR has ended the employment, the employee’s Annex 1 consent may be withdrawn', async () => {
    const { subjectId, consentId } = await employee(12);
    expect((await gw(END, { id: subjectId, on: kazakhstanToday() }, 'HR')).errors).toBeUndefined();
    // consents learns of the end from the event stream: the refusal stops as soon as it has.
    const withdrawn = await eventually(
      async () => {
        const res = await gw(WITHDRAW, { id: consentId, reason: 'Заявление бывшего работника' }, 'DPO');
        return res.errors ? undefined : res.data.withdrawConsent;
      },
      15_000,
      'the withdrawal after the employment ended',
    );
    expect(withdrawn).toEqual({ id: consentId, status: 'WITHDRAWN' });
  });

  it('6.1.5: the rule is the employee’s Annex 1 only — an applicant’s consent is withdrawn at once', async () => {
    // An applicant's consent (Annex 2) has no employment behind it: the law keeps nothing here.
    const { intakeSubject } = await import('../support/intake');
    const { subjectId } = await intakeSubject(system);
    const consent = (await gw(CONSENT, { id: subjectId }, 'DPO')).data.subject.consents.find(
      (c: { templateCode: string }) => c.templateCode === 'ANNEX2_APPLICANT',
    );
    const res = await gw(WITHDRAW, { id: consent.id, reason: 'Заявление субъекта' }, 'DPO');
    expect(res.errors).toBeUndefined();
    expect(res.data.withdrawConsent.status).toBe('WITHDRAWN');
  });
});
