import { z } from 'zod';
import type { MessageKey } from './i18n';
import { kazakhstanToday } from './workdays';

/**
 * Calendar dates at the boundaries (a signature's date, a contract's, an obligation's due date, the
 * end of employment): `YYYY-MM-DD`, a real day of the calendar, compared with today in Kazakhstan.
 * Each problem is an i18n key, so the caller reads it in their language and never sees the value.
 */
export const isoDateSchema = z
  .string()
  .trim()
  .refine((value) => isRealDate(value), { message: 'date.invalid' satisfies MessageKey, abort: true });

function isRealDate(value: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value)) return false;
  const date = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().slice(0, 10) === value && value >= '1900-01-01';
}

/** A date that has already come (today in Kazakhstan or earlier): when something was signed or ended. */
export const pastDateSchema = isoDateSchema.refine((value) => value <= kazakhstanToday(), { message: 'date.future' satisfies MessageKey });
