import { randomUUID } from 'node:crypto';
import { blockSubject, expect, scopeOf, staff } from '../../../tests/support/service';
import { forwardAppeal } from '../src/worklist.service';
import { appealIn, creditor, test, transferConsent } from './fixture';

/**
 * Forwarding an appeal to a creditor is a TRANSFER (2.2, 3.3, 4.2): each condition of
 * `forwardAppeal`, one per test. What the partner then sees crosses services (tests/e2e/partners).
 */
const operator = staff('OPERATOR');
const dpo = staff('DPO');

test('a forwarded appeal carries only the fields chosen, once each, and says so in its events', async ({ service }) => {
  const appeal = await appealIn(service.db, 'IN_PROGRESS');
  const to = await creditor(service.db);
  await transferConsent(service.db, appeal);
  await forwardAppeal(service.deps, scopeOf(operator), appeal.id, to, ['PHONE', 'DESCRIPTION', 'PHONE']);
  const row = await service.db.selectFrom('appeals').selectAll().where('id', '=', appeal.id).executeTakeFirstOrThrow();
  expect(row).toMatchObject({ status: 'FORWARDED', forwarded_to: to, forwarded_fields: ['PHONE', 'DESCRIPTION'] });
  expect(await service.events('appeal.forwarded')).toMatchObject([
    { subjectId: appeal.subjectId, data: { appealId: appeal.id, creditorId: to, fields: ['PHONE', 'DESCRIPTION'] } },
  ]);
  expect(await service.events('appeal.status_changed')).toMatchObject([{ data: { from: 'IN_PROGRESS', to: 'FORWARDED' } }]);
});

test('without a standing consent that allows transfer, forwarding is refused (CONSENT_REQUIRED) and recorded', async ({ service }) => {
  const appeal = await appealIn(service.db, 'IN_PROGRESS');
  const to = await creditor(service.db);
  await transferConsent(service.db, appeal, false);
  await expect(forwardAppeal(service.deps, scopeOf(operator), appeal.id, to, ['PHONE'])).rejects.toMatchObject({ extensions: { code: 'CONSENT_REQUIRED' } });
  expect(await service.events('access.denied')).toMatchObject([
    { subjectId: appeal.subjectId, data: { operation: 'Mutation.forwardAppeal', reason: 'PURPOSE' } },
  ]);
});

test('a withdrawn consent of the appeal forbids forwarding even when another consent allows it', async ({ service }) => {
  const appeal = await appealIn(service.db, 'IN_PROGRESS');
  const to = await creditor(service.db);
  await transferConsent(service.db, appeal);
  await service.db
    .insertInto('transfer_consents')
    .values({ consent_id: randomUUID(), appeal_id: appeal.id, subject_id: appeal.subjectId, allows_transfer: true, withdrawn_at: new Date() })
    .execute();
  await expect(forwardAppeal(service.deps, scopeOf(operator), appeal.id, to, ['PHONE'])).rejects.toMatchObject({ extensions: { code: 'CONSENT_REQUIRED' } });
});

test('a creditor outside Kazakhstan receives nothing (TRANSFER_FORBIDDEN, CROSS_BORDER), and the refusal is recorded', async ({ service }) => {
  const appeal = await appealIn(service.db, 'IN_PROGRESS');
  const to = await creditor(service.db, 'RU');
  await transferConsent(service.db, appeal);
  await expect(forwardAppeal(service.deps, scopeOf(operator), appeal.id, to, ['PHONE'])).rejects.toMatchObject({
    extensions: { code: 'TRANSFER_FORBIDDEN', reason: 'CROSS_BORDER' },
  });
  expect(await service.events('access.denied')).toMatchObject([{ subjectId: appeal.subjectId, data: { reason: 'PURPOSE' } }]);
});

test('a suspended creditor receives nothing (CREDITOR_SUSPENDED)', async ({ service }) => {
  const appeal = await appealIn(service.db, 'IN_PROGRESS');
  const to = await creditor(service.db);
  await transferConsent(service.db, appeal);
  await service.db
    .insertInto('creditor_suspensions')
    .values({
      id: randomUUID(),
      creditor_id: to,
      reason: 'Complaint under review',
      suspended_by: dpo.id,
      resumed_at: null,
      resumed_by: null,
      resume_reason: null,
    })
    .execute();
  await expect(forwardAppeal(service.deps, scopeOf(operator), appeal.id, to, ['PHONE'])).rejects.toMatchObject({
    extensions: { code: 'CONFLICT', reason: 'CREDITOR_SUSPENDED' },
  });
});

test('a blocked subject’s appeal is not forwarded (SUBJECT_BLOCKED)', async ({ service }) => {
  const appeal = await appealIn(service.db, 'IN_PROGRESS');
  const to = await creditor(service.db);
  await transferConsent(service.db, appeal);
  await blockSubject(service.db, appeal.subjectId);
  await expect(forwardAppeal(service.deps, scopeOf(operator), appeal.id, to, ['PHONE'])).rejects.toMatchObject({ extensions: { code: 'SUBJECT_BLOCKED' } });
  expect(await service.events('appeal.forwarded')).toEqual([]);
});

test('forwarding follows the workflow: a NEW appeal is taken into work first', async ({ service }) => {
  const appeal = await appealIn(service.db, 'NEW');
  const to = await creditor(service.db);
  await transferConsent(service.db, appeal);
  await expect(forwardAppeal(service.deps, scopeOf(operator), appeal.id, to, ['PHONE'])).rejects.toMatchObject({
    extensions: { code: 'CONFLICT', reason: 'TRANSITION_NOT_ALLOWED' },
  });
});

test('an unknown creditor is NOT_FOUND', async ({ service }) => {
  const appeal = await appealIn(service.db, 'IN_PROGRESS');
  await expect(forwardAppeal(service.deps, scopeOf(operator), appeal.id, randomUUID(), ['PHONE'])).rejects.toMatchObject({
    extensions: { code: 'NOT_FOUND', resource: 'Creditor' },
  });
});

test('at least one field must be chosen', async ({ service }) => {
  const appeal = await appealIn(service.db, 'IN_PROGRESS');
  const to = await creditor(service.db);
  await expect(forwardAppeal(service.deps, scopeOf(operator), appeal.id, to, [])).rejects.toMatchObject({
    extensions: { code: 'BAD_USER_INPUT', field: 'fields' },
  });
});

test('only the fields that may travel can be chosen', async ({ service }) => {
  const appeal = await appealIn(service.db, 'IN_PROGRESS');
  const to = await creditor(service.db);
  await expect(forwardAppeal(service.deps, scopeOf(operator), appeal.id, to, ['BIRTH_DATE'])).rejects.toMatchObject({ extensions: { code: 'BAD_USER_INPUT' } });
});
