import { randomUUID } from 'node:crypto';
import { blockSubject, expect, scopeOf, staff } from '../../../tests/support/service';
import { fulfilObligation, withdrawConsent } from '../src/withdrawal.service';
import { contractConsent, test } from './fixture';

/** A counterparty's obligations (5.2): each rule of `fulfilObligation`, one per test. */
const contracts = staff('CONTRACTS');
const dpo = staff('DPO');

test('fulfilling an obligation marks it fulfilled, by whom', async ({ service }) => {
  const consent = await contractConsent(service.db, ['2027-01-15']);
  const { obligation, subjectId } = await fulfilObligation(service.deps, scopeOf(contracts), consent.obligationIds[0]!);
  expect(subjectId).toBe(consent.subjectId);
  expect(obligation).toMatchObject({ id: consent.obligationIds[0], fulfilled_by: contracts.id });
  expect(obligation.fulfilled_at).not.toBeNull();
});

test('obligation.fulfilled says how many of the consent’s obligations are still open', async ({ service }) => {
  const consent = await contractConsent(service.db, ['2027-01-15', '2027-02-15']);
  await fulfilObligation(service.deps, scopeOf(contracts), consent.obligationIds[0]!);
  await fulfilObligation(service.deps, scopeOf(contracts), consent.obligationIds[1]!);
  const events = await service.events('obligation.fulfilled');
  expect(events.map((e) => e.data.openObligations)).toEqual([1, 0]);
  expect(events[0]).toMatchObject({ subjectId: consent.subjectId, data: { obligationId: consent.obligationIds[0], consentId: consent.id } });
});

test('once every obligation is fulfilled the consent may be withdrawn', async ({ service }) => {
  const consent = await contractConsent(service.db, ['2027-01-15']);
  await fulfilObligation(service.deps, scopeOf(contracts), consent.obligationIds[0]!);
  await withdrawConsent(service.deps, scopeOf(dpo), consent.id, 'The subject asked in writing');
  expect(await service.events('consent.withdrawn')).toHaveLength(1);
});

test('a fulfilled obligation is not fulfilled again', async ({ service }) => {
  const consent = await contractConsent(service.db, ['2027-01-15']);
  await fulfilObligation(service.deps, scopeOf(contracts), consent.obligationIds[0]!);
  await expect(fulfilObligation(service.deps, scopeOf(contracts), consent.obligationIds[0]!)).rejects.toMatchObject({
    extensions: { code: 'CONFLICT', reason: 'OBLIGATION_FULFILLED' },
  });
});

test('a blocked subject’s obligation does not change (6.1.3)', async ({ service }) => {
  const consent = await contractConsent(service.db, ['2027-01-15']);
  await blockSubject(service.db, consent.subjectId);
  await expect(fulfilObligation(service.deps, scopeOf(contracts), consent.obligationIds[0]!)).rejects.toMatchObject({
    extensions: { code: 'SUBJECT_BLOCKED' },
  });
  const row = await service.db.selectFrom('obligations').select('fulfilled_at').where('id', '=', consent.obligationIds[0]!).executeTakeFirstOrThrow();
  expect(row.fulfilled_at).toBeNull();
});

test('a role whose purpose does not cover the consent’s categories is refused, and the refusal recorded (4.4)', async ({ service }) => {
  const consent = await contractConsent(service.db, ['2027-01-15']);
  // HR's purpose covers employees only (the permission table's role check is the pipeline's, not this rule).
  const hr = staff('HR');
  await expect(fulfilObligation(service.deps, scopeOf(hr), consent.obligationIds[0]!)).rejects.toMatchObject({ extensions: { code: 'FORBIDDEN' } });
  expect(await service.events('access.denied')).toMatchObject([
    { subjectId: consent.subjectId, actor: { id: hr.id }, data: { operation: 'Mutation.fulfilObligation', reason: 'PURPOSE' } },
  ]);
});

test('an unknown obligation is NOT_FOUND', async ({ service }) => {
  await expect(fulfilObligation(service.deps, scopeOf(contracts), randomUUID())).rejects.toMatchObject({
    extensions: { code: 'NOT_FOUND', resource: 'Obligation' },
  });
});
