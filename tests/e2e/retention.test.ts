import { eventually } from '@pdp/shared/testing';
import { describe, expect, test as base } from 'vitest';
import { graphql } from '../support/client';
import { startSystem } from '../support/fixtures';
import { intakeSubject } from '../support/intake';
import type { System } from '../support/system';

/** A platform whose retention term is zero and whose sweep runs every 200 ms. */
const test = base.extend<{ system: System }>({
  // eslint-disable-next-line no-empty-pattern
  system: async ({}, use) => {
    const system = await startSystem({ retentionDays: 0, retentionSweepMs: 200 });
    await use(system);
    await system.destroy();
  },
});

const as = async (system: System, role: 'OPERATOR' | 'DPO', query: string, variables: Record<string, unknown> = {}) =>
  graphql(system.url, query, variables, { token: await system.tokenFor([role]) });
const MOVE = `mutation($id: ID!, $s: AppealStatus!) { changeAppealStatus(appealId: $id, status: $s) { status } }`;

describe('retention (4.6) and deadlines', () => {
  test('when every purpose is achieved and the term has passed, an erasure act is proposed for the DPO', async ({ system }) => {
    const { subjectId, appealId } = await intakeSubject(system);
    const open = await intakeSubject(system);
    for (const status of ['IN_PROGRESS', 'ANSWERED', 'CLOSED']) {
      const res = await as(system, 'OPERATOR', MOVE, { id: appealId, s: status });
      expect(res.data?.changeAppealStatus.status).toBe(status);
    }
    // A closed appeal cannot be reopened by a skip in the workflow.
    expect((await as(system, 'OPERATOR', MOVE, { id: appealId, s: 'NEW' })).errors?.[0]?.extensions?.code).toBe('CONFLICT');

    const due = await eventually(
      async () => {
        const res = await as(system, 'DPO', `{ erasureActs(status: PROPOSED) { id subjectId method automatic proposedBy grounds } }`);
        return res.data?.erasureActs.length ? res.data.erasureActs : undefined;
      },
      15_000,
      'automatic proposal',
    );
    expect(due).toHaveLength(1); // the subject whose appeal is still open is not due
    expect(due[0]).toMatchObject({ subjectId, method: 'DEPERSONALIZE', automatic: true, proposedBy: 'system:retention' });
    expect(due[0].subjectId).not.toBe(open.subjectId);
    const purposes = await system.db('subjects').selectFrom('subject_purposes').select(['state', 'achieved_at']).where('subject_id', '=', subjectId).execute();
    expect(purposes[0]?.state).toBe('ACHIEVED');
    // That the sweep does not propose twice while an act is open is the sweep's own rule:
    // services/subjects/test/retention.test.ts, without waiting for sweeps to run.
  });

  test('appeals and rectification requests past their working-day deadline are listed as overdue', async ({ system }) => {
    const { subjectId } = await intakeSubject(system);
    const late = await intakeSubject(system);
    const none = await as(system, 'OPERATOR', `{ overdueAppeals { id } }`);
    expect(none.data?.overdueAppeals).toEqual([]);
    // Time passes: the deadline of one appeal is now behind us.
    await system.db('appeals').updateTable('appeals').set({ deadline: '2026-01-05' }).where('id', '=', late.appealId).execute();
    const overdue = await as(system, 'OPERATOR', `{ overdueAppeals { id deadline } }`);
    expect(overdue.data?.overdueAppeals).toEqual([{ id: late.appealId, deadline: '2026-01-05' }]);
    // Answered appeals are no longer waiting.
    await as(system, 'OPERATOR', MOVE, { id: late.appealId, s: 'IN_PROGRESS' });
    await as(system, 'OPERATOR', MOVE, { id: late.appealId, s: 'ANSWERED' });
    expect((await as(system, 'OPERATOR', `{ overdueAppeals { id } }`)).data?.overdueAppeals).toEqual([]);

    const req = await as(system, 'DPO', `mutation($input: RectificationInput!) { requestRectification(input: $input) { id deadline } }`, {
      input: { subjectId, field: 'email', newValue: 'new@mail.kz', documents: ['Statement No. 3'] },
    });
    expect(req.data?.requestRectification.deadline > new Date().toISOString().slice(0, 10)).toBe(true);
    await system.db('subjects').updateTable('rectification_requests').set({ deadline: '2026-01-05' }).execute();
    const lateRequests = await as(system, 'DPO', `{ overdueRectifications { id deadline status } }`);
    expect(lateRequests.data?.overdueRectifications).toEqual([{ id: req.data?.requestRectification.id, deadline: '2026-01-05', status: 'PENDING' }]);
    expect((await as(system, 'OPERATOR', `{ overdueRectifications { id } }`)).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });
});
