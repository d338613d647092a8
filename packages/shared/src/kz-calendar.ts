import Holidays from 'date-holidays';

/**
 * Kazakhstan's non-working days, as the law has them (issue 22, item 5).
 *
 * - **The holidays** come from the `date-holidays` package (its `KZ` data, kept up to date by its
 *   maintainers: 7 January, Kurban Ait computed on the Hijri calendar, Constitution Day moved to
 *   15 March by the new Constitution), not from a hand-kept list.
 * - **The carry-over** is the Labour Code's rule, computed here (Labour Code art. 85; the Law "On
 *   holidays", art. 5): a state or national holiday that falls on a Saturday or Sunday makes the next
 *   working day after it a day off. The religious days off — Orthodox Christmas (7 January) and the
 *   first day of Kurban Ait (art. 84(5)) — are not carried over. The package's own "substitute" days
 *   are not used: they are fixed rules ("if Sunday then next Tuesday") that land on another holiday
 *   when two fall together (Nauryz 2026 and 2027), where the law takes the next *working* day.
 * - **The transfers** of days off that the authorised body for labour orders every year (art. 85(3))
 *   are configuration: `KAZAKHSTAN_TRANSFERS` below, each with the act that ordered it, and the
 *   `HOLIDAYS` / `WORKING_WEEKENDS` settings of each service for one published after a release.
 * - **Corrections**: where the package and the official calendar disagree, the official calendar
 *   wins, each correction with its source (`KAZAKHSTAN_CORRECTIONS`; docs/operations.md, "The
 *   calendar", lists them).
 */

/** A day off moved by an act of the authorised body (Labour Code art. 85(3)). */
export interface CalendarTransfer {
  /** The weekday that becomes a day off. */
  dayOff: string;
  /** The weekend day that becomes a working day in exchange. */
  workingDay: string;
  /** The act that ordered it. */
  act: string;
}

/** A day where the official calendar differs from the package's data. */
export interface CalendarCorrection {
  date: string;
  /** true: a holiday the package lacks; false: a day the package holds a holiday and the law does not. */
  holiday: boolean;
  why: string;
}

/** Published transfers of days off, by year. A new year's order adds rows here (operations.md, "The calendar"). */
export const KAZAKHSTAN_TRANSFERS: readonly CalendarTransfer[] = [
  {
    dayOff: '2024-05-08',
    workingDay: '2024-05-04',
    act: 'Order of the Minister of Labour and Social Protection "On the transfer of a day of rest in 2024" (April 2024)',
  },
  {
    dayOff: '2025-01-03',
    workingDay: '2025-01-05',
    act: 'Order of the Minister of Labour and Social Protection No. 436 of 21 November 2024 "On the transfer of a day of rest in 2025"',
  },
];

export const KAZAKHSTAN_CORRECTIONS: readonly CalendarCorrection[] = [
  {
    date: '2026-03-15',
    holiday: false,
    why:
      'date-holidays has Constitution Day on 15 March from 2026; the new Constitution was adopted at the referendum of ' +
      '15 March 2026 itself, and the Ministry of Labour and Social Protection (March 2026) said the day is celebrated from ' +
      '2027 and that 30 August is no longer a holiday from 2026 (the egov.kz calendar of January 2026, published before ' +
      'the referendum, still had 30 August with 31 August as its carried day off).',
  },
];

const RELIGIOUS = (rule: string) => rule === '01-07' || rule.includes('Dhu al-Hijjah');

/** One non-working day that is not a plain Saturday or Sunday, or a weekend day declared working. */
export interface CalendarDay {
  date: string;
  kind: 'HOLIDAY' | 'CARRIED_OVER' | 'TRANSFERRED' | 'WORKING_WEEKEND';
  /** The holiday's name (Russian), or for a carried-over day the holiday it is carried from. */
  name: string;
}

let holidaysSource: Holidays | null = null;
function source(): Holidays {
  holidaysSource ??= new Holidays('KZ');
  return holidaysSource;
}

const isoOf = (d: Date) => d.toISOString().slice(0, 10);
const weekend = (iso: string) => {
  const day = new Date(`${iso}T00:00:00Z`).getUTCDay();
  return day === 0 || day === 6;
};
const nextDay = (iso: string) => {
  const d = new Date(`${iso}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + 1);
  return isoOf(d);
};

/** The law's holidays of a year (from the package, with the corrections), each with whether it is carried over. */
export function kazakhstanHolidays(year: number): Array<{ date: string; name: string; carried: boolean }> {
  const removed = new Set(KAZAKHSTAN_CORRECTIONS.filter((c) => !c.holiday).map((c) => c.date));
  const days = new Map<string, { date: string; name: string; carried: boolean }>();
  for (const h of source().getHolidays(year, 'ru')) {
    if (h.type !== 'public' || h.substitute) continue;
    const date = h.date.slice(0, 10);
    if (removed.has(date) || days.has(date)) continue;
    days.set(date, { date, name: h.name, carried: !RELIGIOUS(h.rule) });
  }
  for (const c of KAZAKHSTAN_CORRECTIONS) {
    if (c.holiday && c.date.startsWith(`${year}-`) && !days.has(c.date)) days.set(c.date, { date: c.date, name: 'correction', carried: true });
  }
  return [...days.values()].sort((a, b) => a.date.localeCompare(b.date));
}

/**
 * A year's days that differ from "Monday to Friday work": holidays, days carried over from holidays
 * on a weekend, transferred days off, and weekend days declared working. `extra` adds configured
 * days off (`HOLIDAYS`) and working days (`WORKING_WEEKENDS`).
 */
export function kazakhstanYear(year: number, extra: { holidays?: Iterable<string>; workingDays?: Iterable<string> } = {}): CalendarDay[] {
  const holidays = kazakhstanHolidays(year);
  const off = new Map<string, CalendarDay>();
  for (const h of holidays) off.set(h.date, { date: h.date, kind: 'HOLIDAY', name: h.name });
  // Carry-over: in date order, each weekend holiday makes the next day that is neither a weekend nor
  // already off a day off (Nauryz 2026: 21 and 22 March are Saturday and Sunday, 23 March a
  // holiday itself, so 24 and 25 March are off).
  for (const h of holidays) {
    if (!h.carried || !weekend(h.date)) continue;
    let day = nextDay(h.date);
    while (weekend(day) || off.has(day)) day = nextDay(day);
    off.set(day, { date: day, kind: 'CARRIED_OVER', name: h.name });
  }
  const inYear = (d: string) => d.startsWith(`${year}-`);
  for (const t of KAZAKHSTAN_TRANSFERS) {
    if (inYear(t.dayOff)) off.set(t.dayOff, { date: t.dayOff, kind: 'TRANSFERRED', name: t.act });
  }
  for (const d of extra.holidays ?? []) if (inYear(d) && !off.has(d)) off.set(d, { date: d, kind: 'TRANSFERRED', name: 'HOLIDAYS' });
  const working = [...KAZAKHSTAN_TRANSFERS.map((t) => t.workingDay), ...(extra.workingDays ?? [])].filter(inYear);
  for (const d of working) {
    off.delete(d);
    if (weekend(d)) off.set(d, { date: d, kind: 'WORKING_WEEKEND', name: 'working day' });
  }
  return [...off.values()].sort((a, b) => a.date.localeCompare(b.date));
}
