import { randomUUID } from 'node:crypto';
import { kazakhstanCalendar, kazakhstanToday, type EventType, type NewEvent } from '@pdp/shared';
import { eventually, publishEvent } from '@pdp/shared/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RULES, offHoursDay } from '../src/domain/detection';
import { notifyBy, reportedLate, transition } from '../src/domain/incident';
import { startTestAudit, type TestAudit } from './support';

type Actor = { id: string; roles: string[] };
const operator = (id: string): Actor => ({ id, roles: ['OPERATOR'] });

async function send<T extends EventType>(audit: TestAudit, events: Array<NewEvent<T>>): Promise<void> {
  const before = await audit.count();
  for (const e of events) await publishEvent(audit.config.natsUrl, audit.config.eventsPrefix, e);
  await eventually(async () => (await audit.count()) >= before + events.length, 20_000, `${events.length} entries`);
}

const read = (actor: Actor, subjectId: string): NewEvent<'pd.accessed'> => ({
  type: 'pd.accessed',
  source: 'appeals',
  actor,
  subjectId,
  data: { resource: 'appeal', resourceIds: [randomUUID()], fields: ['phone'], operation: 'ACCESS' },
});

async function incidentsOf(audit: TestAudit, actorId: string): Promise<Array<{ rule: string; evidence: string[]; subjectId: string | null }>> {
  const res = await audit.call('{ incidents(limit: 1000) { rule actorId subjectId evidence } }');
  return res.data.incidents.filter((i: { actorId: string }) => i.actorId === actorId);
}

describe('detection rules (7.2.2)', () => {
  let audit: TestAudit;
  beforeAll(async () => {
    audit = await startTestAudit({ checkpointEvery: 1000 });
  });
  afterAll(async () => {
    await audit.stop();
  });

  it('mass reads: 200 reads by one person within ten minutes', async () => {
    const mass = operator('op-mass');
    await send(
      audit,
      Array.from({ length: RULES.MASS_READ.threshold - 1 }, () => read(mass, randomUUID())),
    );
    expect(await incidentsOf(audit, 'op-mass')).toEqual([]);
    await send(audit, [read(mass, randomUUID())]);
    await eventually(async () => (await incidentsOf(audit, 'op-mass')).length === 1, 10_000, 'MASS_READ');
    expect((await incidentsOf(audit, 'op-mass'))[0]).toMatchObject({ rule: 'MASS_READ' });
  }, 120_000);

  it("a blocked subject's data read by anyone but the DPO or the audit; and insisting on it", async () => {
    const subjectId = randomUUID();
    await send(audit, [{ type: 'subject.blocked', source: 'subjects', actor: { id: 'dpo-1', roles: ['DPO'] }, subjectId, data: { subjectId } }]);
    await send(audit, [read({ id: 'dpo-reader', roles: ['DPO'] }, subjectId), read(operator('op-leak'), subjectId)]);
    await eventually(async () => (await incidentsOf(audit, 'op-leak')).length === 1, 10_000, 'BLOCKED_SUBJECT_ACCESS');
    expect(await incidentsOf(audit, 'op-leak')).toEqual([expect.objectContaining({ rule: 'BLOCKED_SUBJECT_ACCESS', subjectId })]);
    expect(await incidentsOf(audit, 'dpo-reader')).toEqual([]);

    const denied = (): NewEvent<'access.denied'> => ({
      type: 'access.denied',
      source: 'appeals',
      actor: operator('op-insist'),
      subjectId,
      data: { operation: 'Query.appeal', reason: 'BLOCKED' },
    });
    await send(audit, [denied(), denied()]);
    expect(await incidentsOf(audit, 'op-insist')).toEqual([]);
    await send(audit, [denied()]);
    await eventually(async () => (await incidentsOf(audit, 'op-insist')).length === 1, 10_000, 'three attempts');
    // Once unblocked, reading is processing again.
    await send(audit, [{ type: 'subject.unblocked', source: 'subjects', actor: { id: 'dpo-1', roles: ['DPO'] }, subjectId, data: { subjectId } }]);
    await send(audit, [read(operator('op-later'), subjectId)]);
    expect(await incidentsOf(audit, 'op-later')).toEqual([]);
  });
});

describe('work at night or on a day off (7.2.2)', () => {
  let audit: TestAudit;
  beforeAll(async () => {
    // Today is a holiday on this audit's calendar: any staff access today is off hours.
    const today = kazakhstanToday();
    audit = await startTestAudit({ workHours: { start: 0, end: 24 }, calendar: kazakhstanCalendar({ holidays: [today] }) });
  });
  afterAll(async () => {
    await audit.stop();
  });

  it('raises one incident per person and day; the public forms at night are no incident', async () => {
    await send(audit, [read(operator('op-holiday'), randomUUID()), read(operator('op-holiday'), randomUUID())]);
    await send(audit, [read({ id: 'anonymous', roles: ['PUBLIC'] }, randomUUID())]);
    await eventually(async () => (await incidentsOf(audit, 'op-holiday')).length === 1, 10_000, 'OFF_HOURS_ACCESS');
    const [incident] = await incidentsOf(audit, 'op-holiday');
    expect(incident).toMatchObject({ rule: 'OFF_HOURS_ACCESS' });
    expect(incident!.evidence).toHaveLength(2);
    expect(await incidentsOf(audit, 'anonymous')).toEqual([]);
  });

  it('working hours are Kazakhstan time (UTC+5), working days the Kazakhstan calendar', () => {
    const calendar = kazakhstanCalendar();
    const hours = { start: 7, end: 22 };
    expect(offHoursDay(new Date('2026-11-25T05:00:00Z'), hours, calendar)).toBeNull(); // Wednesday 10:00
    expect(offHoursDay(new Date('2026-11-25T17:30:00Z'), hours, calendar)).toBe('2026-11-25'); // 22:30
    expect(offHoursDay(new Date('2026-11-25T20:00:00Z'), hours, calendar)).toBe('2026-11-26'); // 01:00 the next day
    expect(offHoursDay(new Date('2026-11-28T05:00:00Z'), hours, calendar)).toBe('2026-11-28'); // Saturday
    expect(offHoursDay(new Date('2026-12-16T05:00:00Z'), hours, calendar)).toBe('2026-12-16'); // Independence Day
  });
});

describe('the breach-notification deadline and the lifecycle', () => {
  const calendar = kazakhstanCalendar();
  it('notifyBy is one working day after detection, on the Kazakhstan calendar', () => {
    expect(notifyBy(new Date('2026-11-25T05:00:00Z'), 1, calendar)).toBe('2026-11-26'); // Wednesday → Thursday
    expect(notifyBy(new Date('2026-11-27T12:00:00Z'), 1, calendar)).toBe('2026-11-30'); // Friday → Monday
    expect(notifyBy(new Date('2026-11-27T20:00:00Z'), 1, calendar)).toBe('2026-11-30'); // Saturday 01:00 in Kazakhstan → Monday
    expect(notifyBy(new Date('2026-12-15T06:00:00Z'), 1, calendar)).toBe('2026-12-17'); // the day before Independence Day → after it
  });
  it('reported late: after its day, or not reported and past it; closed as no breach is not late', () => {
    expect(reportedLate({ status: 'REPORTED', notifyBy: '2026-11-26', reportedAt: new Date('2026-11-26T18:00:00Z') })).toBe(false); // 23:00 that day
    expect(reportedLate({ status: 'REPORTED', notifyBy: '2026-11-26', reportedAt: new Date('2026-11-26T19:30:00Z') })).toBe(true); // 00:30 the next
    expect(reportedLate({ status: 'OPEN', notifyBy: '2026-11-26', reportedAt: null }, new Date('2026-11-27T05:00:00Z'))).toBe(true);
    expect(reportedLate({ status: 'CLOSED', notifyBy: '2026-11-26', reportedAt: null }, new Date('2026-11-27T05:00:00Z'))).toBe(false);
  });
  it('moves only OPEN → ACKNOWLEDGED → REPORTED → CLOSED (report from OPEN too; close when no breach)', () => {
    expect(transition('OPEN', 'acknowledge')).toBe('ACKNOWLEDGED');
    expect(transition('OPEN', 'report')).toBe('REPORTED');
    expect(transition('ACKNOWLEDGED', 'close')).toBe('CLOSED');
    expect(transition('OPEN', 'close')).toBeNull();
    expect(transition('REPORTED', 'acknowledge')).toBeNull();
    expect(transition('CLOSED', 'report')).toBeNull();
  });
});
