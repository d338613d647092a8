import { randomUUID } from 'node:crypto';
import { expect, scopeOf, staff } from '../../../tests/support/service';
import { setSubjectBlocked } from '../src/blocking.service';
import { applicant, test } from './fixture';

/**
 * Blocking (6.1.3) where it starts: subjects changes the status and numbers each block and unblock;
 * each rule of `setSubjectBlocked`, one per test. Every other holder applying it and confirming
 * crosses services (tests/e2e/rights, propagation).
 */
const dpo = staff('DPO');
const REASON = 'Complaint about unlawful processing';

type Deps = Parameters<typeof setSubjectBlocked>[0];
const subjectRow = (deps: Deps, id: string) =>
  deps.db.selectFrom('subjects').select(['status', 'block_version']).where('id', '=', id).executeTakeFirstOrThrow();

test('a block stops processing: the subject is BLOCKED, with who blocked it and why', async ({ service }) => {
  const subject = await applicant(service.deps);
  await setSubjectBlocked(service.deps, scopeOf(dpo), subject.id, REASON, true);
  expect((await subjectRow(service.deps, subject.id)).status).toBe('BLOCKED');
  const blocks = await service.db.selectFrom('blocks').select(['reason', 'blocked_by', 'unblocked_at']).where('subject_id', '=', subject.id).execute();
  expect(blocks).toEqual([{ reason: REASON, blocked_by: dpo.id, unblocked_at: null }]);
});

test('each block and unblock is numbered, and its events carry the number', async ({ service }) => {
  const subject = await applicant(service.deps);
  await setSubjectBlocked(service.deps, scopeOf(dpo), subject.id, REASON, true);
  await setSubjectBlocked(service.deps, scopeOf(dpo), subject.id, 'The complaint was resolved', false);
  expect((await subjectRow(service.deps, subject.id)).block_version).toBe(2);
  expect(await service.events('subject.blocked')).toMatchObject([{ subjectId: subject.id, data: { subjectId: subject.id, version: 1 } }]);
  expect(await service.events('subject.unblocked')).toMatchObject([{ subjectId: subject.id, data: { subjectId: subject.id, version: 2 } }]);
});

test('subjects confirms its own block in the same transaction', async ({ service }) => {
  const subject = await applicant(service.deps);
  await setSubjectBlocked(service.deps, scopeOf(dpo), subject.id, REASON, true);
  const receipts = await service.db.selectFrom('block_receipts').select(['service', 'blocked', 'version']).where('subject_id', '=', subject.id).execute();
  expect(receipts).toEqual([{ service: 'subjects', blocked: true, version: 1 }]);
  expect(await service.events('subject.block_applied')).toMatchObject([{ data: { subjectId: subject.id, blocked: true, service: 'subjects', version: 1 } }]);
});

test('the events do not carry the reason (free text the audit keeps out)', async ({ service }) => {
  const subject = await applicant(service.deps);
  await setSubjectBlocked(service.deps, scopeOf(dpo), subject.id, REASON, true);
  expect(JSON.stringify(await service.events())).not.toContain(REASON);
});

test('an unblock restores processing and closes the block with its reason', async ({ service }) => {
  const subject = await applicant(service.deps);
  await setSubjectBlocked(service.deps, scopeOf(dpo), subject.id, REASON, true);
  await setSubjectBlocked(service.deps, scopeOf(dpo), subject.id, 'The complaint was resolved', false);
  expect((await subjectRow(service.deps, subject.id)).status).toBe('ACTIVE');
  const [block] = await service.db.selectFrom('blocks').select(['unblock_reason', 'unblocked_by']).where('subject_id', '=', subject.id).execute();
  expect(block).toEqual({ unblock_reason: 'The complaint was resolved', unblocked_by: dpo.id });
});

test('a blocked subject is not blocked again (SUBJECT_BLOCKED conflict)', async ({ service }) => {
  const subject = await applicant(service.deps);
  await setSubjectBlocked(service.deps, scopeOf(dpo), subject.id, REASON, true);
  await expect(setSubjectBlocked(service.deps, scopeOf(dpo), subject.id, REASON, true)).rejects.toMatchObject({
    extensions: { code: 'CONFLICT', reason: 'SUBJECT_BLOCKED' },
  });
});

test('an active subject has nothing to unblock (SUBJECT_ACTIVE conflict)', async ({ service }) => {
  const subject = await applicant(service.deps);
  await expect(setSubjectBlocked(service.deps, scopeOf(dpo), subject.id, 'No block to lift', false)).rejects.toMatchObject({
    extensions: { code: 'CONFLICT', reason: 'SUBJECT_ACTIVE' },
  });
});

test('an erased subject is not blocked', async ({ service }) => {
  const subject = await applicant(service.deps);
  await service.db.updateTable('subjects').set({ status: 'DESTROYED' }).where('id', '=', subject.id).execute();
  await expect(setSubjectBlocked(service.deps, scopeOf(dpo), subject.id, REASON, true)).rejects.toMatchObject({
    extensions: { code: 'CONFLICT', reason: 'SUBJECT_DESTROYED' },
  });
});

test('a block needs a reason of at least three characters', async ({ service }) => {
  const subject = await applicant(service.deps);
  await expect(setSubjectBlocked(service.deps, scopeOf(dpo), subject.id, 'no', true)).rejects.toMatchObject({
    extensions: { code: 'BAD_USER_INPUT', field: 'reason' },
  });
});

test('an unknown subject is NOT_FOUND', async ({ service }) => {
  await expect(setSubjectBlocked(service.deps, scopeOf(dpo), randomUUID(), REASON, true)).rejects.toMatchObject({
    extensions: { code: 'NOT_FOUND', resource: 'Subject' },
  });
});
