import { DEFAULT_RETENTION_RULES, type RetentionRule } from '@pdp/subjects';
import { kazakhstanMidnight, type Role } from '@pdp/shared';
import { eventually, makeIin } from '@pdp/shared/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { subjectsDueForErasure } from '../../services/subjects/src/db/erasure.repository';
import { graphql, type GraphQLResponse } from '../support/client';
import { startSystem } from '../support/fixtures';
import { intakeSubject } from '../support/intake';
import type { System } from '../support/system';

/**
 * Retention by rule (clause 4.6, Art. 12(2) of the Law), through the gateway: the rules in force with
 * their terms and bases, `endContract` ending a counterparty's purpose as `endEmployment` ends an
 * employee's, the sweep proposing acts by the rules, and a whole year of the calendar walked day by
 * day. The platform runs with short terms of its own (configuration), its sweep every 300 ms.
 */
const rule = (category: RetentionRule['category'], keepFor: string): RetentionRule => {
  const base = DEFAULT_RETENTION_RULES.find((r) => r.category === category)!;
  return { ...base, keepFor };
};
const RULES: RetentionRule[] = [
  rule('APPLICANT', 'P1Y'),
  rule('DEBTOR', 'P1Y'),
  rule('RELATIVE', 'P1Y'),
  rule('EMPLOYER', 'P1Y'),
  rule('EMPLOYEE', 'P6M'),
  rule('COUNTERPARTY', 'P3M'),
];

let system: System;
beforeAll(async () => {
  system = await startSystem({ retentionRules: RULES, retentionSweepMs: 300 });
});
afterAll(async () => {
  await system?.destroy();
});

async function gw(query: string, variables: Record<string, unknown> = {}, as?: Role, locale?: 'kk' | 'ru'): Promise<GraphQLResponse> {
  const token = as ? await system.tokenFor([as], { sub: `${(as ?? 'x').toLowerCase()}-retention` }) : undefined;
  return graphql(system.url, query, variables, { token, headers: locale ? { 'accept-language': locale } : {} });
}

const RULES_QUERY = `{ retentionRules { category purpose keepFor basis chamberChoice } }`;
const REGISTER_EMPLOYEE = `mutation($input: EmployeeInput!) { registerEmployee(input: $input) { id } }`;
const REGISTER_COUNTERPARTY = `mutation($input: CounterpartyInput!) { registerCounterparty(input: $input) { id } }`;
const END_CONTRACT = `mutation($id: ID!, $on: String!) { endContract(subjectId: $id, endedOn: $on) { id purposes { code state achievedAt } contracts { endedOn } } }`;
const END_EMPLOYMENT = `mutation($id: ID!, $on: String!) { endEmployment(subjectId: $id, endedOn: $on) { id } }`;
const MOVE = `mutation($id: ID!, $s: AppealStatus!) { changeAppealStatus(appealId: $id, status: $s) { status } }`;
const ACTS = `query($id: ID!) { erasureActs(subjectId: $id) { id status automatic proposedBy grounds } }`;

const iin = (serial: number) => makeIin('1982-04-11', 'F', serial + Math.floor(Math.random() * 5000));
const employee = (overrides: Record<string, unknown> = {}) => ({
  iin: iin(1),
  fullName: 'Серикова Айгүл Маратқызы',
  position: 'Маман',
  consentDocument: 'Приложение 1 № 3/2026',
  signedAt: '2026-01-15',
  locale: 'RU',
  ...overrides,
});
const counterparty = (overrides: Record<string, unknown> = {}) => ({
  iin: iin(2),
  fullName: 'Нұрланов Ерлан',
  contractNumber: 'Д-7/2026',
  contractDate: '2026-01-10',
  consentForm: 'CONTRACT_CLAUSE',
  obligations: [],
  locale: 'RU',
  ...overrides,
});

async function closeAppeal(appealId: string) {
  for (const s of ['IN_PROGRESS', 'ANSWERED', 'CLOSED']) expect((await gw(MOVE, { id: appealId, s }, 'OPERATOR')).errors).toBeUndefined();
}

/** Time passes: the purpose was achieved at that moment (the sweep counts from it). */
async function achievedAt(subjectId: string, code: string, at: Date) {
  // A closed appeal achieves its purpose through an event: wait for it, or it would overwrite the date.
  await eventually(
    async () =>
      (
        await system
          .db('subjects')
          .selectFrom('subject_purposes')
          .select('state')
          .where('subject_id', '=', subjectId)
          .where('code', '=', code)
          .executeTakeFirst()
      )?.state === 'ACHIEVED',
    15_000,
    `${code} achieved`,
  );
  const res = await system
    .db('subjects')
    .updateTable('subject_purposes')
    .set({ achieved_at: at })
    .where('subject_id', '=', subjectId)
    .where('code', '=', code)
    .execute();
  expect(Number(res[0]?.numUpdatedRows)).toBeGreaterThan(0);
}

describe('retention by rule (4.6, Art. 12(2))', () => {
  it('4.6: retentionRules lists each category and purpose with its term and basis, in the caller’s language; a Chamber’s choice says so', async () => {
    const ru = await gw(RULES_QUERY, {}, 'AUDITOR', 'ru');
    expect(ru.errors).toBeUndefined();
    expect(ru.data.retentionRules).toHaveLength(6);
    expect(ru.data.retentionRules.find((r: { category: string }) => r.category === 'COUNTERPARTY')).toMatchObject({
      purpose: 'CONTRACT_PERFORMANCE',
      keepFor: 'P3M',
      chamberChoice: false,
    });
    const applicant = ru.data.retentionRules.find((r: { category: string }) => r.category === 'APPLICANT');
    expect(applicant).toMatchObject({ purpose: 'APPEAL_HANDLING', chamberChoice: true });
    expect(applicant.basis).toMatch(/выбор Палаты/);
    const kk = await gw(RULES_QUERY, {}, 'CHAIRMAN', 'kk');
    expect(kk.data.retentionRules.find((r: { category: string }) => r.category === 'APPLICANT').basis).toMatch(/Палатаның таңдауы/);
    for (const role of ['OPERATOR', 'HR', 'PARTNER'] as const) expect((await gw(RULES_QUERY, {}, role)).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it('4.6: endContract achieves CONTRACT_PERFORMANCE on the day it ended, as endEmployment achieves LABOUR_RELATIONS; only CONTRACTS may', async () => {
    const reg = await gw(REGISTER_COUNTERPARTY, { input: counterparty() }, 'CONTRACTS');
    const id = reg.data.registerCounterparty.id;
    expect((await gw(END_CONTRACT, { id, on: '2026-11-20' }, 'HR')).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const ended = await gw(END_CONTRACT, { id, on: '2026-11-20' }, 'CONTRACTS');
    expect(ended.errors).toBeUndefined();
    expect(ended.data.endContract.contracts).toEqual([{ endedOn: '2026-11-20' }]);
    expect(ended.data.endContract.purposes).toEqual([
      { code: 'CONTRACT_PERFORMANCE', state: 'ACHIEVED', achievedAt: kazakhstanMidnight('2026-11-20').toISOString() },
    ]);
    const again = await gw(END_CONTRACT, { id, on: '2026-11-21' }, 'CONTRACTS', 'kk');
    expect(again.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', reason: 'NO_ACTIVE_CONTRACT' });
    expect(again.errors?.[0]?.message).toBe('Субъектінің қолданыстағы шарты жоқ');
  });

  it('4.6 (bad input): endContract with a day that is no day, or one to come, names endedOn in kk/ru and changes nothing', async () => {
    const reg = await gw(REGISTER_COUNTERPARTY, { input: counterparty() }, 'CONTRACTS');
    const id = reg.data.registerCounterparty.id;
    for (const [on, ru] of [
      ['2026-02-30', 'Дата должна быть существующей датой в формате ГГГГ-ММ-ДД'],
      ['31.12.2026', 'Дата должна быть существующей датой в формате ГГГГ-ММ-ДД'],
      ['2999-01-01', 'Дата не может быть позже сегодняшней'],
    ]) {
      const bad = await gw(END_CONTRACT, { id, on }, 'CONTRACTS', 'ru');
      expect(bad.errors?.map((e) => [e.extensions?.code, e.extensions?.field, e.message])).toEqual([['BAD_USER_INPUT', 'endedOn', ru]]);
    }
    const kk = await gw(END_CONTRACT, { id, on: 'tomorrow' }, 'CONTRACTS', 'kk');
    expect(kk.errors?.[0]?.message).toBe('Күн ЖЖЖЖ-АА-КК түріндегі нақты күн болуы керек');
    const contract = await system.db('subjects').selectFrom('contracts').select('ended_on').where('subject_id', '=', id).executeTakeFirstOrThrow();
    expect(contract.ended_on).toBeNull();
  });

  it('4.6: the sweep proposes an act once each purpose’s term by its category’s rule has passed, naming the rule, and not before', async () => {
    // A counterparty whose contract ended over three months ago (P3M): due.
    const due = (await gw(REGISTER_COUNTERPARTY, { input: counterparty() }, 'CONTRACTS')).data.registerCounterparty.id;
    expect((await gw(END_CONTRACT, { id: due, on: '2026-08-01' }, 'CONTRACTS')).errors).toBeUndefined();
    // One whose contract ended a month ago: not yet.
    const recent = (await gw(REGISTER_COUNTERPARTY, { input: counterparty() }, 'CONTRACTS')).data.registerCounterparty.id;
    expect((await gw(END_CONTRACT, { id: recent, on: '2026-11-01' }, 'CONTRACTS')).errors).toBeUndefined();
    // An applicant whose appeal closed ten months ago (P1Y): not yet; one closed thirteen months ago: due.
    const young = await intakeSubject(system);
    const old = await intakeSubject(system);
    await closeAppeal(young.appealId);
    await closeAppeal(old.appealId);
    await achievedAt(young.subjectId, 'APPEAL_HANDLING', new Date(Date.now() - 300 * 86_400_000));
    await achievedAt(old.subjectId, 'APPEAL_HANDLING', new Date(Date.now() - 400 * 86_400_000));

    for (const [subjectId, rule] of [
      [due, 'COUNTERPARTY/CONTRACT_PERFORMANCE P3M'],
      [old.subjectId, 'APPLICANT/APPEAL_HANDLING P1Y'],
    ]) {
      const acts = await eventually(async () => (await gw(ACTS, { id: subjectId }, 'DPO')).data?.erasureActs?.[0], 15_000, `act for ${rule}`);
      expect(acts).toMatchObject({ status: 'PROPOSED', automatic: true, proposedBy: 'system:retention' });
      expect(acts.grounds).toContain(rule);
    }
    await new Promise((r) => setTimeout(r, 1000));
    for (const subjectId of [recent, young.subjectId]) expect((await gw(ACTS, { id: subjectId }, 'DPO')).data.erasureActs).toEqual([]);
  });

  it('4.6: a whole year of the calendar (2028, a leap year), day by day: each subject is due on the day its rules say, and a working employee never', async () => {
    // Applicant A: appeal closed 28 Feb 2027, noon → P1Y → 28 Feb 2028.
    const a = await intakeSubject(system);
    await closeAppeal(a.appealId);
    await achievedAt(a.subjectId, 'APPEAL_HANDLING', new Date('2027-02-28T12:00:00+05:00'));
    // Employee E: employment ended 31 Aug 2027 → P6M → 29 Feb 2028 (counted on Kazakhstan's calendar).
    const e = (await gw(REGISTER_EMPLOYEE, { input: employee() }, 'HR')).data.registerEmployee.id;
    expect((await gw(END_EMPLOYMENT, { id: e, on: '2026-11-30' }, 'HR')).errors).toBeUndefined();
    await achievedAt(e, 'LABOUR_RELATIONS', kazakhstanMidnight('2027-08-31'));
    // Counterparty C: contract ended 31 May 2028 → P3M → 31 Aug 2028.
    const c = (await gw(REGISTER_COUNTERPARTY, { input: counterparty() }, 'CONTRACTS')).data.registerCounterparty.id;
    expect((await gw(END_CONTRACT, { id: c, on: '2026-11-30' }, 'CONTRACTS')).errors).toBeUndefined();
    await achievedAt(c, 'CONTRACT_PERFORMANCE', kazakhstanMidnight('2028-05-31'));
    // B, an applicant and an employee: APPEAL_HANDLING until 1 Jun 2028 (P1Y), LABOUR_RELATIONS until 10 Jul 2028 (P6M): the later.
    const b = await intakeSubject(system);
    await closeAppeal(b.appealId);
    await achievedAt(b.subjectId, 'APPEAL_HANDLING', kazakhstanMidnight('2027-06-01'));
    expect((await gw(REGISTER_EMPLOYEE, { input: employee({ iin: b.input.iin }) }, 'HR')).data.registerEmployee.id).toBe(b.subjectId);
    expect((await gw(END_EMPLOYMENT, { id: b.subjectId, on: '2026-11-30' }, 'HR')).errors).toBeUndefined();
    await achievedAt(b.subjectId, 'LABOUR_RELATIONS', kazakhstanMidnight('2028-01-10'));
    // W: still employed — its purpose is not achieved, whatever the date.
    const w = (await gw(REGISTER_EMPLOYEE, { input: employee() }, 'HR')).data.registerEmployee.id;

    const expected = new Map([
      [a.subjectId, '2028-02-28'],
      [e, '2028-02-29'],
      [b.subjectId, '2028-07-10'],
      [c, '2028-08-31'],
    ]);
    const firstDue = new Map<string, string>();
    const watched = new Set([...expected.keys(), w]);
    const db = system.db('subjects');
    for (let day = new Date('2028-01-01T00:00:00Z'); day.getUTCFullYear() === 2028; day = new Date(day.getTime() + 86_400_000)) {
      const date = day.toISOString().slice(0, 10);
      const endOfDay = new Date(kazakhstanMidnight(date).getTime() + 86_400_000 - 1);
      for (const { id } of await subjectsDueForErasure(db, RULES, endOfDay, 10_000)) {
        if (watched.has(id) && !firstDue.has(id)) firstDue.set(id, date);
      }
    }
    expect(Object.fromEntries(firstDue)).toEqual(Object.fromEntries(expected));
    expect(firstDue.has(w)).toBe(false);
  });
});
