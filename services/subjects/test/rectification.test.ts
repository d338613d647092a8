import { randomUUID } from 'node:crypto';
import { addWorkingDays, unseal } from '@pdp/shared';
import { makeIin } from '@pdp/shared/testing';
import { expect, scopeOf, staff } from '../../../tests/support/service';
import { requestRectification, reviewRectification } from '../src/rectification.service';
import { iinBlindIndex } from '../src/domain/identity';
import { applicant, appealsSealKeys, freshIin, test } from './fixture';

/**
 * Rectification (6.1.2): a documented request, the DPO's review, and the correction applied where
 * the field lives; each rule of `requestRectification` and `reviewRectification`, one per test.
 * Appeals applying a corrected contact value crosses services (tests/e2e/rights, erasure-handoffs).
 */
const dpo = staff('DPO');
const operator = staff('OPERATOR');
const DOCUMENTS = ['Passport scan, letter of 2026-11-02'];

type Deps = Parameters<typeof requestRectification>[0];
const request = (deps: Deps, subjectId: string, field: string, newValue: string, documents = DOCUMENTS) =>
  requestRectification(deps, scopeOf(operator), { subjectId, field, newValue, documents });
const requestRow = (deps: Deps, id: string) => deps.db.selectFrom('rectification_requests').selectAll().where('id', '=', id).executeTakeFirstOrThrow();

test('a request waits for review, its new value kept encrypted', async ({ service }) => {
  const subject = await applicant(service.deps);
  const id = await request(service.deps, subject.id, 'phone', '+77011234567');
  const row = await requestRow(service.deps, id);
  expect(row).toMatchObject({ subject_id: subject.id, field: 'phone', status: 'PENDING', requested_by: operator.id, documents: DOCUMENTS });
  expect(row.new_value_enc).not.toContain('7011234567');
});

test('a request is due in the configured number of working days', async ({ service }) => {
  const { rightsRequestWorkingDays, calendar } = service.deps.config.extra;
  const before = addWorkingDays(new Date(), rightsRequestWorkingDays, calendar).toISOString().slice(0, 10);
  const id = await request(service.deps, (await applicant(service.deps)).id, 'phone', '+77011234567');
  const after = addWorkingDays(new Date(), rightsRequestWorkingDays, calendar).toISOString().slice(0, 10);
  // Either side of a midnight the call may straddle.
  expect([before, after]).toContain((await requestRow(service.deps, id)).deadline);
});

test('rectification.requested tells the audit which field, never the value', async ({ service }) => {
  const subject = await applicant(service.deps);
  const id = await request(service.deps, subject.id, 'email', 'new.address@example.kz');
  const [requested] = await service.events('rectification.requested');
  expect(requested).toMatchObject({ subjectId: subject.id, data: { requestId: id, field: 'email' } });
  expect(JSON.stringify(requested)).not.toContain('new.address');
});

test('the new value is checked by the rule of the field it corrects', async ({ service }) => {
  const subject = await applicant(service.deps);
  await expect(request(service.deps, subject.id, 'iin', '123456789012')).rejects.toMatchObject({ extensions: { code: 'BAD_USER_INPUT', field: 'newValue' } });
});

test('only the fields a subject may have corrected are accepted', async ({ service }) => {
  const subject = await applicant(service.deps);
  await expect(request(service.deps, subject.id, 'status', 'ACTIVE')).rejects.toMatchObject({ extensions: { code: 'BAD_USER_INPUT', field: 'field' } });
});

test('a request names at least one document', async ({ service }) => {
  const subject = await applicant(service.deps);
  await expect(request(service.deps, subject.id, 'phone', '+77011234567', [])).rejects.toMatchObject({
    extensions: { code: 'BAD_USER_INPUT', field: 'documents' },
  });
});

test('a blocked subject’s data are not corrected: no request is taken (6.1.3)', async ({ service }) => {
  const subject = await applicant(service.deps);
  await service.db.updateTable('subjects').set({ status: 'BLOCKED' }).where('id', '=', subject.id).execute();
  await expect(request(service.deps, subject.id, 'phone', '+77011234567')).rejects.toMatchObject({ extensions: { code: 'SUBJECT_BLOCKED' } });
});

test('an erased subject takes no request', async ({ service }) => {
  const subject = await applicant(service.deps);
  await service.db.updateTable('subjects').set({ status: 'DEPERSONALIZED' }).where('id', '=', subject.id).execute();
  await expect(request(service.deps, subject.id, 'phone', '+77011234567')).rejects.toMatchObject({
    extensions: { code: 'CONFLICT', reason: 'SUBJECT_DEPERSONALIZED' },
  });
});

test('a rejected request changes nothing but its status', async ({ service }) => {
  const subject = await applicant(service.deps);
  const id = await request(service.deps, subject.id, 'iin', freshIin());
  await reviewRectification(service.deps, scopeOf(dpo), id, false, 'The documents do not show the change');
  expect(await requestRow(service.deps, id)).toMatchObject({ status: 'REJECTED', reviewed_by: dpo.id });
  expect(await service.events('rectification.rejected')).toMatchObject([{ data: { requestId: id, field: 'iin' } }]);
  const row = await service.db.selectFrom('subjects').select('iin_bidx').where('id', '=', subject.id).executeTakeFirstOrThrow();
  expect(row.iin_bidx).toBe(iinBlindIndex(service.deps.config.blindIndexKey, subject.iin));
});

test('an approved IIN is applied in subjects at once: the subject is found by the new IIN only', async ({ service }) => {
  const subject = await applicant(service.deps);
  const corrected = freshIin();
  const id = await request(service.deps, subject.id, 'iin', corrected);
  await reviewRectification(service.deps, scopeOf(dpo), id, true, null);
  expect((await requestRow(service.deps, id)).status).toBe('APPLIED');
  const row = await service.db.selectFrom('subjects').select(['iin_enc', 'iin_bidx']).where('id', '=', subject.id).executeTakeFirstOrThrow();
  expect(row.iin_bidx).toBe(iinBlindIndex(service.deps.config.blindIndexKey, corrected));
  expect(service.deps.cipher.decrypt(row.iin_enc!, { table: 'subjects', column: 'iin_enc', id: subject.id })).toBe(corrected);
  expect(await service.events('rectification.applied')).toMatchObject([{ data: { requestId: id, field: 'iin', service: 'subjects' } }]);
});

test('an IIN another subject holds is not taken (IIN_TAKEN), and the request stays pending', async ({ service }) => {
  const subject = await applicant(service.deps);
  const other = await applicant(service.deps, makeIin('1975-01-30', 'F', 11));
  const id = await request(service.deps, subject.id, 'iin', other.iin);
  await expect(reviewRectification(service.deps, scopeOf(dpo), id, true, null)).rejects.toMatchObject({
    extensions: { code: 'CONFLICT', reason: 'IIN_TAKEN' },
  });
  expect((await requestRow(service.deps, id)).status).toBe('PENDING');
});

test('an approved phone is handed to appeals sealed, and the event carries only its reference', async ({ service }) => {
  const subject = await applicant(service.deps);
  const id = await request(service.deps, subject.id, 'phone', '+77011234567');
  await reviewRectification(service.deps, scopeOf(dpo), id, true, null);
  expect((await requestRow(service.deps, id)).status).toBe('APPROVED');
  const [approved] = await service.events('rectification.approved');
  expect(approved).toMatchObject({ data: { requestId: id, field: 'phone', service: 'appeals', value: { to: 'appeals', id } } });
  expect(JSON.stringify(approved)).not.toContain('7011234567');
  const handoff = (await service.events()).find((e) => 'sealed' in e) as unknown as { sealed: string };
  expect(await unseal(handoff.sealed, appealsSealKeys.privateJwk)).toEqual({ value: '+77011234567' });
});

test('a reviewed request is not reviewed again', async ({ service }) => {
  const subject = await applicant(service.deps);
  const id = await request(service.deps, subject.id, 'phone', '+77011234567');
  await reviewRectification(service.deps, scopeOf(dpo), id, false, null);
  await expect(reviewRectification(service.deps, scopeOf(dpo), id, true, null)).rejects.toMatchObject({
    extensions: { code: 'CONFLICT', reason: 'REQUEST_REJECTED' },
  });
});

test('a blocked subject’s request is not reviewed', async ({ service }) => {
  const subject = await applicant(service.deps);
  const id = await request(service.deps, subject.id, 'phone', '+77011234567');
  await service.db.updateTable('subjects').set({ status: 'BLOCKED' }).where('id', '=', subject.id).execute();
  await expect(reviewRectification(service.deps, scopeOf(dpo), id, true, null)).rejects.toMatchObject({ extensions: { code: 'SUBJECT_BLOCKED' } });
});

test('an unknown request is NOT_FOUND', async ({ service }) => {
  await expect(reviewRectification(service.deps, scopeOf(dpo), randomUUID(), true, null)).rejects.toMatchObject({
    extensions: { code: 'NOT_FOUND', resource: 'RectificationRequest' },
  });
});
