import { z } from 'zod';

/**
 * Working-day deadlines on a Kazakhstan calendar: weekends and public holidays are skipped. The
 * holiday list is configuration (`HOLIDAYS`, ISO dates), because moveable feasts (Kurban ait) and
 * government transfers of days off change every year.
 */
export interface WorkCalendar {
  holidays: ReadonlySet<string>;
  /** Extra working days declared on a weekend by a government transfer. */
  workingWeekends: ReadonlySet<string>;
}

/** Fixed-date public holidays of the Republic of Kazakhstan (Labour Code, art. 84 and the holidays law). */
const FIXED = ['01-01', '01-02', '03-08', '03-21', '03-22', '03-23', '05-01', '05-07', '05-09', '07-06', '08-30', '10-25', '12-16'];

export function kazakhstanCalendar(years: number[], extraHolidays: string[] = [], workingWeekends: string[] = []): WorkCalendar {
  const holidays = new Set<string>(extraHolidays);
  for (const year of years) for (const day of FIXED) holidays.add(`${year}-${day}`);
  return { holidays, workingWeekends: new Set(workingWeekends) };
}

/** Kazakhstan's offset from UTC: UTC+5 throughout the country since March 2024. Every day and deadline is counted in it. */
export const KZ_OFFSET_MS = 5 * 3600 * 1000;

/** Today's date (YYYY-MM-DD) in Kazakhstan, for comparing with deadlines. */
export function kazakhstanToday(now: Date = new Date()): string {
  return new Date(now.getTime() + KZ_OFFSET_MS).toISOString().slice(0, 10);
}

/** Midnight at the start of a Kazakhstan calendar day (UTC+5), as an instant. */
export function kazakhstanMidnight(date: string): Date {
  return new Date(Date.parse(`${date}T00:00:00Z`) - KZ_OFFSET_MS);
}

export function isWorkingDay(date: Date, calendar: WorkCalendar): boolean {
  const iso = date.toISOString().slice(0, 10);
  if (calendar.workingWeekends.has(iso)) return true;
  const weekday = date.getUTCDay();
  return weekday !== 0 && weekday !== 6 && !calendar.holidays.has(iso);
}

/** The date `days` working days after `from` (the day of receipt does not count). */
export function addWorkingDays(from: Date, days: number, calendar: WorkCalendar): Date {
  // Days are counted in Kazakhstan's time.
  const local = new Date(from.getTime() + KZ_OFFSET_MS);
  const date = new Date(Date.UTC(local.getUTCFullYear(), local.getUTCMonth(), local.getUTCDate()));
  let left = days;
  while (left > 0) {
    date.setUTCDate(date.getUTCDate() + 1);
    if (isWorkingDay(date, calendar)) left -= 1;
  }
  return date;
}

/**
 * The calendar's settings, one set for every service that counts working days (spread into its env
 * model): extra public holidays, e.g. Kurban ait and transferred days off, and weekends declared
 * working days; ISO dates, comma-separated. Read with `calendarFromEnv`.
 */
export const calendarEnv = {
  HOLIDAYS: z.string().optional(),
  WORKING_WEEKENDS: z.string().optional(),
};

export function calendarFromEnv(holidays: string | undefined, workingWeekends: string | undefined): WorkCalendar {
  const year = new Date().getUTCFullYear();
  const list = (s: string | undefined) =>
    s
      ? s
          .split(',')
          .map((d) => d.trim())
          .filter(Boolean)
      : [];
  return kazakhstanCalendar([year - 1, year, year + 1, year + 2], list(holidays), list(workingWeekends));
}
