import { z } from 'zod';
import { BadUserInputError } from './errors';
import type { Locale, MessageKey } from './i18n';
import { kazakhstanMidnight } from './workdays';

/**
 * A report's period: two Kazakhstan calendar dates, both included, at most `maxDays` long. The same
 * parse in every service that answers for a part of a report (the control report is assembled by
 * federation), so they all count the same instants: [from 00:00, to+1 00:00) at UTC+5.
 */
export interface ReportPeriod {
  from: string;
  to: string;
  start: Date;
  /** Exclusive. */
  end: Date;
}

const DAY_MS = 24 * 3600 * 1000;
const dateSchema = z.iso.date();

export function parseReportPeriod(from: string, to: string, locale: Locale, maxDays = 366): ReportPeriod {
  const bad = (field: string, key: MessageKey) => new BadUserInputError(field, key, locale);
  const problems = [
    ...(dateSchema.safeParse(from).success ? [] : [bad('from', 'period.invalid')]),
    ...(dateSchema.safeParse(to).success ? [] : [bad('to', 'period.invalid')]),
  ];
  if (problems.length > 0) throw BadUserInputError.many(problems);
  const start = kazakhstanMidnight(from);
  const end = new Date(kazakhstanMidnight(to).getTime() + DAY_MS);
  if (end <= start) throw bad('to', 'period.order');
  if (end.getTime() - start.getTime() > maxDays * DAY_MS) throw bad('to', 'period.tooLong');
  return { from, to, start, end };
}

/** An instant given as an ISO date (Kazakhstan midnight) or date-time with an offset; BAD_USER_INPUT naming `field` otherwise. */
export function parseInstant(value: string, field: string, locale: Locale): Date {
  if (dateSchema.safeParse(value).success) return kazakhstanMidnight(value);
  if (z.iso.datetime({ offset: true }).safeParse(value).success) return new Date(value);
  throw new BadUserInputError(field, 'period.invalid', locale);
}
