import { randomUUID } from 'node:crypto';
import { PD_HOLDERS } from '@pdp/shared';
import { expect, scopeOf, staff } from '../../../tests/support/service';
import { decideErasure, proposeErasure } from '../src/erasure.service';
import { applicant, test } from './fixture';

/**
 * Erasure acts (4.6, 6.1.4): the DPO proposes, the Chairman decides; each rule of `proposeErasure`
 * and `decideErasure`, one per test. Carrying an approved act out in every holder, and the act's
 * completion from their receipts, cross services (tests/e2e/rights, erasure-handoffs).
 */
const dpo = staff('DPO');
const chairman = staff('CHAIRMAN');
const GROUNDS = 'The subject asked for erasure in writing';

const actOf = (db: Parameters<typeof proposeErasure>[0]['db'], id: string) =>
  db.selectFrom('erasure_acts').selectAll().where('id', '=', id).executeTakeFirstOrThrow();

test('a proposed act waits for the Chairman, and erasure.proposed says how it would erase', async ({ service }) => {
  const subject = await applicant(service.deps);
  const actId = await proposeErasure(service.deps, scopeOf(dpo), subject.id, 'DESTROY', GROUNDS);
  expect(await actOf(service.db, actId)).toMatchObject({
    subject_id: subject.id,
    status: 'PROPOSED',
    method: 'DESTROY',
    automatic: false,
    proposed_by: dpo.id,
  });
  expect(await service.events('erasure.proposed')).toMatchObject([{ subjectId: subject.id, data: { actId, method: 'DESTROY', automatic: false } }]);
});

test('a subject has one open act at a time (ERASURE_ACT_OPEN)', async ({ service }) => {
  const subject = await applicant(service.deps);
  await proposeErasure(service.deps, scopeOf(dpo), subject.id, 'DESTROY', GROUNDS);
  await expect(proposeErasure(service.deps, scopeOf(dpo), subject.id, 'DEPERSONALIZE', GROUNDS)).rejects.toMatchObject({
    extensions: { code: 'CONFLICT', reason: 'ERASURE_ACT_OPEN' },
  });
});

test('a blocked subject may be proposed for erasure (6.1.4 often follows a block)', async ({ service }) => {
  const subject = await applicant(service.deps);
  await service.db.updateTable('subjects').set({ status: 'BLOCKED' }).where('id', '=', subject.id).execute();
  await expect(proposeErasure(service.deps, scopeOf(dpo), subject.id, 'DESTROY', GROUNDS)).resolves.toBeTypeOf('string');
});

test('an erased subject is not proposed again (SUBJECT_DESTROYED)', async ({ service }) => {
  const subject = await applicant(service.deps);
  await service.db.updateTable('subjects').set({ status: 'DESTROYED' }).where('id', '=', subject.id).execute();
  await expect(proposeErasure(service.deps, scopeOf(dpo), subject.id, 'DESTROY', GROUNDS)).rejects.toMatchObject({
    extensions: { code: 'CONFLICT', reason: 'SUBJECT_DESTROYED' },
  });
});

test('an act needs grounds of at least three characters', async ({ service }) => {
  const subject = await applicant(service.deps);
  await expect(proposeErasure(service.deps, scopeOf(dpo), subject.id, 'DESTROY', 'no')).rejects.toMatchObject({
    extensions: { code: 'BAD_USER_INPUT', field: 'grounds' },
  });
});

test('an unknown subject is NOT_FOUND', async ({ service }) => {
  await expect(proposeErasure(service.deps, scopeOf(dpo), randomUUID(), 'DESTROY', GROUNDS)).rejects.toMatchObject({
    extensions: { code: 'NOT_FOUND', resource: 'Subject' },
  });
});

test('approval fixes every holder of personal data as the confirmations the act waits for', async ({ service }) => {
  const subject = await applicant(service.deps);
  const actId = await proposeErasure(service.deps, scopeOf(dpo), subject.id, 'DEPERSONALIZE', GROUNDS);
  await decideErasure(service.deps, scopeOf(chairman), actId, true, 'Agreed');
  expect(await actOf(service.db, actId)).toMatchObject({ status: 'APPROVED', decided_by: chairman.id, decision_note: 'Agreed', services: [...PD_HOLDERS] });
  expect(await service.events('erasure.approved')).toMatchObject([
    { subjectId: subject.id, data: { actId, method: 'DEPERSONALIZE', services: [...PD_HOLDERS] } },
  ]);
});

test('a rejected act erases nothing and expects no one', async ({ service }) => {
  const subject = await applicant(service.deps);
  const actId = await proposeErasure(service.deps, scopeOf(dpo), subject.id, 'DESTROY', GROUNDS);
  await decideErasure(service.deps, scopeOf(chairman), actId, false, null);
  expect(await actOf(service.db, actId)).toMatchObject({ status: 'REJECTED', services: [] });
  expect(await service.events('erasure.rejected')).toMatchObject([{ data: { actId } }]);
  expect(await service.events('erasure.approved')).toEqual([]);
  const row = await service.db.selectFrom('subjects').select(['status', 'iin_enc']).where('id', '=', subject.id).executeTakeFirstOrThrow();
  expect(row.status).toBe('ACTIVE');
  expect(row.iin_enc).not.toBeNull();
});

test('who proposed an act does not decide it, even holding both roles (OWN_PROPOSAL)', async ({ service }) => {
  const both = { id: 'dpo-and-chairman', roles: ['DPO' as const, 'CHAIRMAN' as const], creditorId: null };
  const subject = await applicant(service.deps);
  const actId = await proposeErasure(service.deps, scopeOf(both), subject.id, 'DESTROY', GROUNDS);
  await expect(decideErasure(service.deps, scopeOf(both), actId, true, null)).rejects.toMatchObject({
    extensions: { code: 'CONFLICT', reason: 'OWN_PROPOSAL' },
  });
});

test('a decided act is not decided again', async ({ service }) => {
  const subject = await applicant(service.deps);
  const actId = await proposeErasure(service.deps, scopeOf(dpo), subject.id, 'DESTROY', GROUNDS);
  await decideErasure(service.deps, scopeOf(chairman), actId, false, null);
  await expect(decideErasure(service.deps, scopeOf(chairman), actId, true, null)).rejects.toMatchObject({
    extensions: { code: 'CONFLICT', reason: 'ACT_REJECTED' },
  });
});

test('an unknown act is NOT_FOUND', async ({ service }) => {
  await expect(decideErasure(service.deps, scopeOf(chairman), randomUUID(), true, null)).rejects.toMatchObject({
    extensions: { code: 'NOT_FOUND', resource: 'ErasureAct' },
  });
});
