import { describe, expect, it } from 'vitest';
import { addWorkingDays, calendarFromEnv, isWorkingDay, kazakhstanCalendar, kazakhstanHolidays, kazakhstanYear } from '../src';

const cal = kazakhstanCalendar();
const plusOne = (day: string) =>
  addWorkingDays(new Date(`${day}T06:00:00Z`), 1, cal)
    .toISOString()
    .slice(0, 10);

/**
 * The official calendar (the egov.kz calendar of holidays and days off, as published for each year, the
 * Ministry of Labour's orders on transfers, and its notice of March 2026 on Constitution Day), day by
 * day: the days that are off though Monday to Friday, and the weekend days declared working.
 */
const OFFICIAL: Record<number, { off: string[]; working: string[]; workingDays: number }> = {
  2025: {
    off: [
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
    working: ['2025-01-05'],
    workingDays: 246,
  },
  2026: {
    off: [
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
    working: [],
    workingDays: 247,
  },
  2027: {
    off: [
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
    working: [],
    workingDays: 247,
  },
};

describe('Kazakhstan’s calendar as the law has it (regulation 6.x deadlines, Labour Code art. 84–85)', () => {
  for (const [year, official] of Object.entries(OFFICIAL)) {
    it(`${year}: the weekdays off and the working weekend days are the official calendar’s`, () => {
      const days = cal.nonWorkingDays(Number(year));
      const weekend = (d: string) => [0, 6].includes(new Date(`${d}T00:00:00Z`).getUTCDay());
      expect(days.filter((d) => !weekend(d))).toEqual(official.off);
      for (const d of official.working) expect(cal.isWorkingDay(d)).toBe(true);
      const inYear = Number(year) % 4 === 0 ? 366 : 365;
      expect(inYear - days.length).toBe(official.workingDays);
    });
  }

  it('7 January (Orthodox Christmas) is a day off, and not carried over when on a weekend', () => {
    expect(cal.isWorkingDay('2026-01-07')).toBe(false);
    // 7 January 2023 was a Saturday: Monday 9 January 2023 was a working day.
    expect(cal.isWorkingDay('2023-01-09')).toBe(true);
  });

  it('Kurban Ait comes from the package (the Muslim calendar), not from configuration, and is not carried over', () => {
    const kurban = (y: number) => kazakhstanHolidays(y).find((h) => h.name.startsWith('Курбан'));
    // The dates the Spiritual Administration of Muslims announced and the ministry published.
    expect(kurban(2024)).toMatchObject({ date: '2024-06-16', carried: false });
    expect(kurban(2025)).toMatchObject({ date: '2025-06-06', carried: false });
    expect(kurban(2026)).toMatchObject({ date: '2026-05-27', carried: false });
    // 16 May 2027 is a Sunday: Monday 17 May 2027 is a working day.
    expect(kurban(2027)).toMatchObject({ date: '2027-05-16', carried: false });
    expect(cal.isWorkingDay('2027-05-17')).toBe(true);
  });

  it('a holiday on a weekend makes the next working day a day off, past other holidays (Nauryz 2026 and 2027)', () => {
    expect(
      kazakhstanYear(2026)
        .filter((d) => d.kind === 'CARRIED_OVER')
        .map((d) => d.date),
    ).toEqual(['2026-03-09', '2026-03-24', '2026-03-25', '2026-05-11', '2026-10-26']);
    // 21 March 2027 is a Sunday; 22 and 23 March are holidays themselves: Wednesday 24 March is off.
    expect(cal.isWorkingDay('2027-03-24')).toBe(false);
    expect(cal.isWorkingDay('2027-03-25')).toBe(true);
  });

  it('Constitution Day: 30 August until 2025, none in 2026 (the new Constitution), 15 March from 2027', () => {
    expect(cal.isWorkingDay('2025-09-01')).toBe(false); // 30 August 2025 was a Saturday
    expect(cal.isWorkingDay('2026-08-31')).toBe(true);
    expect(cal.isWorkingDay('2026-03-16')).toBe(true); // date-holidays disagrees: see KAZAKHSTAN_CORRECTIONS
    expect(cal.isWorkingDay('2027-03-15')).toBe(false);
  });

  it('a transfer ordered by the ministry: Friday 3 January 2025 off, Sunday 5 January 2025 working', () => {
    expect(cal.isWorkingDay('2025-01-03')).toBe(false);
    expect(cal.isWorkingDay('2025-01-05')).toBe(true);
    expect(plusOne('2025-01-02')).toBe('2025-01-05');
  });

  it('a transfer published after a release is configuration (HOLIDAYS, WORKING_WEEKENDS)', () => {
    const configured = calendarFromEnv('2027-01-08', '2027-01-09');
    expect(configured.isWorkingDay('2027-01-08')).toBe(false);
    expect(configured.isWorkingDay('2027-01-09')).toBe(true);
    expect(() => calendarFromEnv('2027-02-30', undefined)).toThrow(/HOLIDAYS/);
    expect(() => calendarFromEnv(undefined, 'soon')).toThrow(/WORKING_WEEKENDS/);
  });

  /** One working day after the working day before each holiday: the deadline lands after the whole break. */
  const AROUND: Array<[string, string]> = [
    // 2025
    ['2024-12-31', '2025-01-05'],
    ['2025-01-06', '2025-01-08'],
    ['2025-03-07', '2025-03-11'],
    ['2025-03-20', '2025-03-26'],
    ['2025-04-30', '2025-05-02'],
    ['2025-05-06', '2025-05-08'],
    ['2025-05-08', '2025-05-12'],
    ['2025-06-05', '2025-06-09'],
    ['2025-07-04', '2025-07-08'],
    ['2025-08-29', '2025-09-02'],
    ['2025-10-24', '2025-10-28'],
    ['2025-12-15', '2025-12-17'],
    // 2026
    ['2025-12-31', '2026-01-05'],
    ['2026-01-06', '2026-01-08'],
    ['2026-03-06', '2026-03-10'],
    ['2026-03-20', '2026-03-26'],
    ['2026-04-30', '2026-05-04'],
    ['2026-05-06', '2026-05-08'],
    ['2026-05-08', '2026-05-12'],
    ['2026-05-26', '2026-05-28'],
    ['2026-07-03', '2026-07-07'],
    ['2026-08-28', '2026-08-31'],
    ['2026-10-23', '2026-10-27'],
    ['2026-12-15', '2026-12-17'],
    // 2027
    ['2026-12-31', '2027-01-05'],
    ['2027-01-06', '2027-01-08'],
    ['2027-03-05', '2027-03-09'],
    ['2027-03-12', '2027-03-16'],
    ['2027-03-19', '2027-03-25'],
    ['2027-04-30', '2027-05-04'],
    ['2027-05-06', '2027-05-11'],
    ['2027-05-14', '2027-05-17'],
    ['2027-07-05', '2027-07-07'],
    ['2027-10-22', '2027-10-26'],
    ['2027-12-15', '2027-12-17'],
  ];
  for (const [from, due] of AROUND) {
    it(`a one-working-day deadline from ${from} is ${due}`, () => expect(plusOne(from)).toBe(due));
  }
});

describe('working days on the Kazakhstan calendar', () => {
  it('skips weekends', () => {
    // Friday 2026-11-20 + 1 working day = Monday 2026-11-23
    expect(addWorkingDays(new Date('2026-11-20T10:00:00Z'), 1, cal).toISOString().slice(0, 10)).toBe('2026-11-23');
  });

  it('skips public holidays', () => {
    expect(isWorkingDay(new Date('2026-12-16T00:00:00Z'), cal)).toBe(false); // Independence Day
    expect(isWorkingDay(new Date('2026-03-23T00:00:00Z'), cal)).toBe(false); // Nauryz
    // Tuesday 2026-12-15 + 1 working day skips the 16th.
    expect(addWorkingDays(new Date('2026-12-15T06:00:00Z'), 1, cal).toISOString().slice(0, 10)).toBe('2026-12-17');
  });

  it('counts from the Kazakhstan date, not UTC', () => {
    // 2026-11-20 21:00 UTC is already Saturday 02:00 in Kazakhstan.
    expect(addWorkingDays(new Date('2026-11-20T21:00:00Z'), 1, cal).toISOString().slice(0, 10)).toBe('2026-11-23');
    // Thursday 19:00 UTC is Friday in Kazakhstan: +1 is Monday.
    expect(addWorkingDays(new Date('2026-11-19T19:30:00Z'), 1, cal).toISOString().slice(0, 10)).toBe('2026-11-23');
  });
});
