import { randomUUID } from 'node:crypto';
import { blockSubject, expect, scopeOf, staff } from '../../../tests/support/service';
import { withdrawConsent } from '../src/withdrawal.service';
import { contractConsent, test } from './fixture';

/** Withdrawal of a consent (6.1.5, Art. 8(2)): each rule of `withdrawConsent`, one per test. */
const dpo = staff('DPO');
const REASON = 'The subject asked in writing';

test('a consent with no open obligation is withdrawn, with the reason kept encrypted', async ({ service }) => {
  const consent = await contractConsent(service.db);
  await withdrawConsent(service.deps, scopeOf(dpo), consent.id, REASON);
  const row = await service.db.selectFrom('consents').selectAll().where('id', '=', consent.id).executeTakeFirstOrThrow();
  expect(row.withdrawn_at).not.toBeNull();
  expect(row.withdrawn_by).toBe(dpo.id);
  expect(row.withdrawal_reason_enc).not.toContain(REASON);
  expect(service.deps.cipher.decrypt(row.withdrawal_reason_enc!, { table: 'consents', column: 'withdrawal_reason_enc', id: consent.id })).toBe(REASON);
});

test('a withdrawal tells every holder (consent.withdrawn) and is confirmed by consents at once', async ({ service }) => {
  const consent = await contractConsent(service.db);
  await withdrawConsent(service.deps, scopeOf(dpo), consent.id, REASON);
  const [withdrawn] = await service.events('consent.withdrawn');
  expect(withdrawn).toMatchObject({ subjectId: consent.subjectId, data: { consentId: consent.id, templateCode: 'COUNTERPARTY_CONTRACT' } });
  expect(JSON.stringify(withdrawn)).not.toContain(REASON);
  expect(await service.events('consent.withdrawal_applied')).toMatchObject([{ data: { consentId: consent.id, service: 'consents' } }]);
  const receipts = await service.db.selectFrom('withdrawal_receipts').select('service').where('consent_id', '=', consent.id).execute();
  expect(receipts.map((r) => r.service)).toEqual(['consents']);
});

test('an open obligation forbids the withdrawal and names every open one, earliest due first', async ({ service }) => {
  const consent = await contractConsent(service.db, ['2027-03-01', '2027-01-15']);
  const refused = withdrawConsent(service.deps, scopeOf(dpo), consent.id, REASON);
  await expect(refused).rejects.toMatchObject({
    extensions: { code: 'CONSENT_WITHDRAWAL_FORBIDDEN', obligationIds: [consent.obligationIds[1], consent.obligationIds[0]] },
  });
});

test('the refusal names the due dates in the caller’s language', async ({ service }) => {
  const consent = await contractConsent(service.db, ['2027-01-15']);
  const ru = await withdrawConsent(service.deps, scopeOf(dpo, 'RU'), consent.id, REASON).catch((e: Error) => e.message);
  const kk = await withdrawConsent(service.deps, scopeOf(dpo, 'KK'), consent.id, REASON).catch((e: Error) => e.message);
  expect(ru).toContain('2027-01-15');
  expect(kk).toContain('2027-01-15');
  expect(kk).not.toBe(ru);
});

test('a refused withdrawal changes nothing and tells no one', async ({ service }) => {
  const consent = await contractConsent(service.db, ['2027-01-15']);
  await withdrawConsent(service.deps, scopeOf(dpo), consent.id, REASON).catch(() => undefined);
  const row = await service.db.selectFrom('consents').select('withdrawn_at').where('id', '=', consent.id).executeTakeFirstOrThrow();
  expect(row.withdrawn_at).toBeNull();
  expect(await service.events('consent.withdrawn')).toEqual([]);
});

test('a withdrawn consent is not withdrawn again', async ({ service }) => {
  const consent = await contractConsent(service.db);
  await withdrawConsent(service.deps, scopeOf(dpo), consent.id, REASON);
  await expect(withdrawConsent(service.deps, scopeOf(dpo), consent.id, REASON)).rejects.toMatchObject({
    extensions: { code: 'CONFLICT', reason: 'CONSENT_WITHDRAWN' },
  });
});

test('a recorded refusal (not granted) has nothing to withdraw', async ({ service }) => {
  const consent = await contractConsent(service.db, [], { granted: false });
  await expect(withdrawConsent(service.deps, scopeOf(dpo), consent.id, REASON)).rejects.toMatchObject({
    extensions: { code: 'CONFLICT', reason: 'CONSENT_NOT_GRANTED' },
  });
});

test('an unknown consent is NOT_FOUND', async ({ service }) => {
  await expect(withdrawConsent(service.deps, scopeOf(dpo), randomUUID(), REASON)).rejects.toMatchObject({ extensions: { code: 'NOT_FOUND' } });
});

test('a depersonalized consent is NOT_FOUND', async ({ service }) => {
  const consent = await contractConsent(service.db);
  await service.db.updateTable('consents').set({ depersonalized_at: new Date(), subject_id: null }).where('id', '=', consent.id).execute();
  await expect(withdrawConsent(service.deps, scopeOf(dpo), consent.id, REASON)).rejects.toMatchObject({ extensions: { code: 'NOT_FOUND' } });
});

test('a withdrawal needs a reason of at least three characters', async ({ service }) => {
  const consent = await contractConsent(service.db);
  await expect(withdrawConsent(service.deps, scopeOf(dpo), consent.id, 'no')).rejects.toMatchObject({
    extensions: { code: 'BAD_USER_INPUT', field: 'reason' },
  });
});

test('a blocked subject’s consent may still be withdrawn: it only takes processing away', async ({ service }) => {
  const consent = await contractConsent(service.db);
  await blockSubject(service.db, consent.subjectId);
  await withdrawConsent(service.deps, scopeOf(dpo), consent.id, REASON);
  expect(await service.events('consent.withdrawn')).toHaveLength(1);
});
