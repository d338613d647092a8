import { kazakhstanToday } from '@pdp/shared';
import { makeIin } from '@pdp/shared/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphql } from '../support/client';
import { startSystem } from '../support/fixtures';
import { form, SUBMIT } from '../support/intake';
import type { System } from '../support/system';

/**
 * The calendar every deadline is counted on (issue 22, item 5; regulation 6.1 and Law 94-V deadlines
 * in working days): `workingCalendar(year)` through the gateway, pinned to the official calendars of
 * 2025, 2026 and 2027, and the deadline of an appeal counted on the same days.
 */
let system: System;
beforeAll(async () => {
  system = await startSystem();
});
afterAll(async () => {
  await system?.destroy();
});

const CALENDAR = 'query($year: Int!) { workingCalendar(year: $year) }';
const weekday = (d: string) => ![0, 6].includes(new Date(`${d}T00:00:00Z`).getUTCDay());

/** The weekdays off of the official calendar (egov.kz), the ministry's transfers and its 2026 notice on Constitution Day. */
const WEEKDAYS_OFF: Record<number, string[]> = {
  2025: [
    '2025-01-01',
    '2025-01-02',
    '2025-01-03',
    '2025-01-07',
    '2025-03-10',
    '2025-03-21',
    '2025-03-24',
    '2025-03-25',
    '2025-05-01',
    '2025-05-07',
    '2025-05-09',
    '2025-06-06',
    '2025-07-07',
    '2025-09-01',
    '2025-10-27',
    '2025-12-16',
  ],
  2026: [
    '2026-01-01',
    '2026-01-02',
    '2026-01-07',
    '2026-03-09',
    '2026-03-23',
    '2026-03-24',
    '2026-03-25',
    '2026-05-01',
    '2026-05-07',
    '2026-05-11',
    '2026-05-27',
    '2026-07-06',
    '2026-10-26',
    '2026-12-16',
  ],
  2027: [
    '2027-01-01',
    '2027-01-04',
    '2027-01-07',
    '2027-03-08',
    '2027-03-15',
    '2027-03-22',
    '2027-03-23',
    '2027-03-24',
    '2027-05-03',
    '2027-05-07',
    '2027-05-10',
    '2027-07-06',
    '2027-10-25',
    '2027-12-16',
  ],
};

describe('workingCalendar (issue 22 item 5: the calendar as the law has it)', () => {
  for (const [year, off] of Object.entries(WEEKDAYS_OFF)) {
    it(`Labour Code art. 84–85: ${year}'s non-working days are the official calendar's, holidays on a weekend carried over`, async () => {
      const res = await graphql(system.url, CALENDAR, { year: Number(year) });
      expect(res.errors).toBeUndefined();
      const days: string[] = res.data.workingCalendar;
      expect(days.filter(weekday)).toEqual(off);
      expect([...days].sort()).toEqual(days);
      // Every Saturday and Sunday is listed but a weekend day a transfer made working (5 January 2025).
      const weekends = days.filter((d) => !weekday(d));
      expect(weekends.includes('2025-01-05')).toBe(false);
      expect(weekends.length).toBe(year === '2025' ? 103 : 104);
    });
  }

  it('Labour Code art. 85(3): the ministry’s transfer of 2025 makes Friday 3 January off and Sunday 5 January a working day', async () => {
    const days: string[] = (await graphql(system.url, CALENDAR, { year: 2025 })).data.workingCalendar;
    expect(days).toContain('2025-01-03');
    expect(days).not.toContain('2025-01-05');
  });

  it('open to everyone: a staff account reads the same calendar as an anonymous caller', async () => {
    const token = await system.tokenFor(['OPERATOR'], { sub: 'calendar-operator' });
    const staff = await graphql(system.url, CALENDAR, { year: 2026 }, { token });
    const anonymous = await graphql(system.url, CALENDAR, { year: 2026 });
    expect(staff.data.workingCalendar).toEqual(anonymous.data.workingCalendar);
  });

  it('issue 22 item 8: a year that is not a year is one BAD_USER_INPUT naming `year`, in Kazakh and Russian', async () => {
    for (const year of [1999, 2101, 0, -2026, 20260]) {
      const ru = await graphql(system.url, CALENDAR, { year }, { headers: { 'accept-language': 'ru' } });
      expect(ru.data).toBeNull();
      expect(ru.errors).toHaveLength(1);
      expect(ru.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'year' });
      expect(ru.errors?.[0]?.message).toBe('Год должен быть целым числом от 2000 до 2100');
      const kk = await graphql(system.url, CALENDAR, { year }, { headers: { 'accept-language': 'kk' } });
      expect(kk.errors?.[0]?.message).toBe('Жыл 2000-нан 2100-ге дейінгі бүтін сан болуы керек');
    }
  });

  it('regulation 6.1: an appeal’s deadline is 15 working days on this calendar', async () => {
    const res = await graphql(system.url, SUBMIT, { input: form({ iin: makeIin('1991-02-03', 'F', 311) }) });
    expect(res.errors).toBeUndefined();
    const { deadline, submittedAt } = res.data.submitAppeal.appeal as { deadline: string; submittedAt: string };
    const start = kazakhstanToday(new Date(submittedAt));
    const year = Number(start.slice(0, 4));
    const off = new Set<string>();
    for (const y of [year, year + 1]) for (const d of (await graphql(system.url, CALENDAR, { year: y })).data.workingCalendar) off.add(d);
    const day = new Date(`${start}T00:00:00Z`);
    for (let left = 15; left > 0; ) {
      day.setUTCDate(day.getUTCDate() + 1);
      if (!off.has(day.toISOString().slice(0, 10))) left -= 1;
    }
    expect(deadline).toBe(day.toISOString().slice(0, 10));
  });
});
