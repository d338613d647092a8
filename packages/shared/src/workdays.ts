import { z } from 'zod';
import { kazakhstanYear, type CalendarDay } from './kz-calendar';

/**
 * Working-day deadlines on Kazakhstan's calendar: weekends, public holidays, the days carried over
 * from holidays on a weekend and the transferred days off are skipped (kz-calendar.ts says where each
 * comes from). `HOLIDAYS` and `WORKING_WEEKENDS` add a transfer published after a release.
 */
export interface WorkCalendar {
  /** Whether the day (YYYY-MM-DD) is a working day. */
  isWorkingDay(iso: string): boolean;
  /** The year's non-working days (weekends included, weekend days declared working left out), in order. */
  nonWorkingDays(year: number): string[];
}

class KazakhstanWorkCalendar implements WorkCalendar {
  private readonly years = new Map<number, Map<string, CalendarDay>>();

  constructor(
    private readonly holidays: readonly string[],
    private readonly workingDays: readonly string[],
  ) {}

  private year(year: number): Map<string, CalendarDay> {
    let days = this.years.get(year);
    if (!days) {
      days = new Map(kazakhstanYear(year, { holidays: this.holidays, workingDays: this.workingDays }).map((d) => [d.date, d]));
      this.years.set(year, days);
    }
    return days;
  }

  isWorkingDay(iso: string): boolean {
    const special = this.year(Number(iso.slice(0, 4))).get(iso);
    if (special) return special.kind === 'WORKING_WEEKEND';
    const weekday = new Date(`${iso}T00:00:00Z`).getUTCDay();
    return weekday !== 0 && weekday !== 6;
  }

  nonWorkingDays(year: number): string[] {
    const out: string[] = [];
    for (let d = new Date(Date.UTC(year, 0, 1)); d.getUTCFullYear() === year; d.setUTCDate(d.getUTCDate() + 1)) {
      const iso = d.toISOString().slice(0, 10);
      if (!this.isWorkingDay(iso)) out.push(iso);
    }
    return out;
  }
}

/**
 * Kazakhstan's calendar, with configured extra days off (`holidays`: a transferred day off, a holiday
 * the package lacks) and working days (`workingDays`: a weekend day a transfer makes working, or a
 * day the package holds a holiday and the official calendar does not).
 */
export function kazakhstanCalendar(extra: { holidays?: string[]; workingDays?: string[] } = {}): WorkCalendar {
  return new KazakhstanWorkCalendar(extra.holidays ?? [], extra.workingDays ?? []);
}

/** Kazakhstan's offset from UTC: UTC+5 throughout the country since March 2024. Every day and deadline is counted in it. */
export const KZ_OFFSET_MS = 5 * 3600 * 1000;

const isRealDay = (d: string) => {
  const at = new Date(`${d}T00:00:00Z`);
  return /^\d{4}-\d{2}-\d{2}$/.test(d) && !Number.isNaN(at.getTime()) && at.toISOString().slice(0, 10) === d;
};

/** Today's date (YYYY-MM-DD) in Kazakhstan, for comparing with deadlines. */
export function kazakhstanToday(now: Date = new Date()): string {
  return new Date(now.getTime() + KZ_OFFSET_MS).toISOString().slice(0, 10);
}

/** Midnight at the start of a Kazakhstan calendar day (UTC+5), as an instant. */
export function kazakhstanMidnight(date: string): Date {
  return new Date(Date.parse(`${date}T00:00:00Z`) - KZ_OFFSET_MS);
}

export function isWorkingDay(date: Date, calendar: WorkCalendar): boolean {
  return calendar.isWorkingDay(date.toISOString().slice(0, 10));
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
 * model): days off and working days the built-in calendar does not have yet (a transfer ordered
 * after the release); ISO dates, comma-separated. Read with `calendarFromEnv`.
 */
export const calendarEnv = {
  HOLIDAYS: z.string().optional(),
  WORKING_WEEKENDS: z.string().optional(),
};

/**
 * The calendar from a service's `HOLIDAYS` and `WORKING_WEEKENDS` settings (ISO dates, comma-separated).
 * A value that is not a real date stops the service at start, naming the setting.
 */
export function calendarFromEnv(holidays: string | undefined, workingWeekends: string | undefined): WorkCalendar {
  const list = (name: string, s: string | undefined) => {
    const days = (s ?? '')
      .split(',')
      .map((d) => d.trim())
      .filter(Boolean);
    for (const d of days) if (!isRealDay(d)) throw new Error(`${name}: "${d}" is not a date (YYYY-MM-DD)`);
    return days;
  };
  return kazakhstanCalendar({ holidays: list('HOLIDAYS', holidays), workingDays: list('WORKING_WEEKENDS', workingWeekends) });
}
