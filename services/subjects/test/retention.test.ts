import { sql } from 'kysely';
import { expect } from '../../../tests/support/service';
import { sweepRetention } from '../src/erasure.service';
import { applicant, test } from './fixture';

/**
 * Retention (4.6): once every purpose of a subject is achieved and the term has passed, the sweep
 * proposes an erasure act for the DPO; each condition of `sweepRetention`, one per test.
 */
type Deps = Parameters<typeof sweepRetention>[0];

/** Marks every purpose of the subject achieved `daysAgo` days ago. */
async function achieved(deps: Deps, subjectId: string, daysAgo: number) {
  await deps.db
    .updateTable('subject_purposes')
    .set({ state: 'ACHIEVED', achieved_at: sql<Date>`now() - make_interval(days => ${daysAgo})` })
    .where('subject_id', '=', subjectId)
    .execute();
}

const actsOf = (deps: Deps, subjectId: string) => deps.db.selectFrom('erasure_acts').selectAll().where('subject_id', '=', subjectId).execute();

test('a subject whose purposes were all achieved longer ago than the term is proposed for erasure', async ({ service }) => {
  const subject = await applicant(service.deps);
  await achieved(service.deps, subject.id, service.deps.config.extra.retentionDays + 1);
  expect(await sweepRetention(service.deps)).toBe(1);
  expect(await actsOf(service.deps, subject.id)).toMatchObject([
    { status: 'PROPOSED', automatic: true, method: service.deps.config.extra.retentionMethod, proposed_by: 'system:retention' },
  ]);
});

test('the automatic proposal is an event like any other (erasure.proposed, automatic)', async ({ service }) => {
  const subject = await applicant(service.deps);
  await achieved(service.deps, subject.id, service.deps.config.extra.retentionDays + 1);
  await sweepRetention(service.deps);
  expect(await service.events('erasure.proposed')).toMatchObject([{ subjectId: subject.id, data: { automatic: true } }]);
});

test('a subject with a purpose still active is kept', async ({ service }) => {
  const subject = await applicant(service.deps);
  expect(await sweepRetention(service.deps)).toBe(0);
  expect(await actsOf(service.deps, subject.id)).toEqual([]);
});

test('a subject whose purposes were achieved within the term is kept', async ({ service }) => {
  const subject = await applicant(service.deps);
  await achieved(service.deps, subject.id, service.deps.config.extra.retentionDays - 1);
  expect(await sweepRetention(service.deps)).toBe(0);
  expect(await actsOf(service.deps, subject.id)).toEqual([]);
});

test('one achieved purpose is not enough while another is active', async ({ service }) => {
  const subject = await applicant(service.deps);
  await achieved(service.deps, subject.id, service.deps.config.extra.retentionDays + 1);
  await service.db
    .insertInto('subject_purposes')
    .values({ subject_id: subject.id, code: 'CONTRACT_PERFORMANCE', reference: 'c-1', state: 'ACTIVE', achieved_at: null })
    .execute();
  expect(await sweepRetention(service.deps)).toBe(0);
});

test('a subject with an open act is not proposed again', async ({ service }) => {
  const subject = await applicant(service.deps);
  await achieved(service.deps, subject.id, service.deps.config.extra.retentionDays + 1);
  await sweepRetention(service.deps);
  expect(await sweepRetention(service.deps)).toBe(0);
  expect(await actsOf(service.deps, subject.id)).toHaveLength(1);
});

test('a blocked subject is left to the DPO', async ({ service }) => {
  const subject = await applicant(service.deps);
  await achieved(service.deps, subject.id, service.deps.config.extra.retentionDays + 1);
  await service.db.updateTable('subjects').set({ status: 'BLOCKED' }).where('id', '=', subject.id).execute();
  expect(await sweepRetention(service.deps)).toBe(0);
});
