import { randomUUID } from 'node:crypto';
import { blockSubject, expect, scopeOf, staff } from '../../../tests/support/service';
import { STATUS_NAMES, type AppealStatus } from '../src/domain/appeal';
import { changeAppealStatus } from '../src/workflow.service';
import { appealIn, test } from './fixture';

/**
 * The appeal workflow as docs/api.md states it (written out here, not read from the code, so that a
 * change to the code's table turns a test red): every move it allows and every one it refuses.
 */
const WORKFLOW: Record<AppealStatus, AppealStatus[]> = {
  NEW: ['IN_PROGRESS', 'CLOSED'],
  IN_PROGRESS: ['FORWARDED', 'ANSWERED', 'CLOSED'],
  FORWARDED: ['IN_PROGRESS', 'ANSWERED'],
  ANSWERED: ['CLOSED', 'IN_PROGRESS'],
  CLOSED: [],
};
const operator = staff('OPERATOR');
const STATUSES = Object.keys(WORKFLOW) as AppealStatus[];
const allowed = STATUSES.flatMap((from) => WORKFLOW[from].map((to) => ({ from, to })));
const refused = STATUSES.flatMap((from) => STATUSES.filter((to) => !WORKFLOW[from].includes(to)).map((to) => ({ from, to })));

test.for(allowed)('$from → $to is a move: the status, its history entry and appeal.status_changed', async ({ from, to }, { service }) => {
  const appeal = await appealIn(service.db, from);
  await changeAppealStatus(service.deps, scopeOf(operator), appeal.id, to);
  const row = await service.db.selectFrom('appeals').select('status').where('id', '=', appeal.id).executeTakeFirstOrThrow();
  expect(row.status).toBe(to);
  const history = await service.db.selectFrom('appeal_changes').select(['status', 'changed_by']).where('appeal_id', '=', appeal.id).execute();
  expect(history).toEqual([{ status: to, changed_by: operator.id }]);
  expect(await service.events('appeal.status_changed')).toMatchObject([{ subjectId: appeal.subjectId, data: { appealId: appeal.id, from, to } }]);
});

test.for(refused)('$from → $to is refused (TRANSITION_NOT_ALLOWED) and changes nothing', async ({ from, to }, { service }) => {
  const appeal = await appealIn(service.db, from);
  await expect(changeAppealStatus(service.deps, scopeOf(operator), appeal.id, to)).rejects.toMatchObject({
    extensions: { code: 'CONFLICT', reason: 'TRANSITION_NOT_ALLOWED' },
  });
  const row = await service.db.selectFrom('appeals').select('status').where('id', '=', appeal.id).executeTakeFirstOrThrow();
  expect(row.status).toBe(from);
  expect(await service.events('appeal.status_changed')).toEqual([]);
});

test('a refused move names both statuses in the caller’s language', async ({ service }) => {
  const appeal = await appealIn(service.db, 'CLOSED');
  const kk = await changeAppealStatus(service.deps, scopeOf(operator, 'KK'), appeal.id, 'IN_PROGRESS').catch((e: Error) => e.message);
  expect(kk).toContain(STATUS_NAMES.CLOSED.KK);
  expect(kk).toContain(STATUS_NAMES.IN_PROGRESS.KK);
});

test('a blocked subject’s appeal does not move, and the refusal is recorded with the subject (6.1.3)', async ({ service }) => {
  const appeal = await appealIn(service.db, 'NEW');
  await blockSubject(service.db, appeal.subjectId);
  await expect(changeAppealStatus(service.deps, scopeOf(operator), appeal.id, 'IN_PROGRESS')).rejects.toMatchObject({
    extensions: { code: 'SUBJECT_BLOCKED' },
  });
  const row = await service.db.selectFrom('appeals').select('status').where('id', '=', appeal.id).executeTakeFirstOrThrow();
  expect(row.status).toBe('NEW');
  expect(await service.events('access.denied')).toMatchObject([{ subjectId: appeal.subjectId, data: { reason: 'BLOCKED' } }]);
});

test('an unknown appeal is NOT_FOUND', async ({ service }) => {
  await expect(changeAppealStatus(service.deps, scopeOf(operator), randomUUID(), 'IN_PROGRESS')).rejects.toMatchObject({
    extensions: { code: 'NOT_FOUND', resource: 'Appeal' },
  });
});
