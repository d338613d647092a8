import { z } from 'zod';
import { checkIin, iinCheckDigit } from './iin';
import type { MessageKey } from './i18n';

/**
 * Field validators shared by every boundary. Each zod issue carries the i18n message key as its
 * message, so the caller's error is translated and never echoes the input.
 */
export const iinSchema = z
  .string()
  .transform((v) => v.replace(/\s+/g, ''))
  .superRefine((value, ctx) => {
    const check = checkIin(value);
    if (!check.ok) ctx.addIssue({ code: 'custom', message: `iin.${check.problem}` satisfies MessageKey });
  });

/** A UUID as text (any version, either case): the shape of every id the platform makes. */
export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Kazakhstan mobile operators' codes after +7 (Beeline, Kcell/Activ, Tele2/Altel, Izi). */
const MOBILE_CODES = new Set([
  '700',
  '701',
  '702',
  '705',
  '706',
  '707',
  '708',
  '747',
  '750',
  '751',
  '760',
  '761',
  '762',
  '763',
  '764',
  '771',
  '775',
  '776',
  '777',
  '778',
]);

export function normalizeKzMobile(raw: string): string | null {
  const digits = raw.replace(/[\s()\-.]/g, '');
  const match = /^(?:\+7|8|7)?(7\d{9})$/.exec(digits);
  if (!match?.[1] || !MOBILE_CODES.has(match[1].slice(0, 3))) return null;
  return `+7${match[1]}`;
}

export const phoneSchema = z.string().transform((value, ctx) => {
  const normalized = normalizeKzMobile(value);
  if (!normalized) {
    ctx.addIssue({ code: 'custom', message: 'phone.invalid' satisfies MessageKey });
    return z.NEVER;
  }
  return normalized;
});

export const emailSchema = z
  .string()
  .trim()
  .toLowerCase()
  .pipe(z.email({ message: 'email.invalid' satisfies MessageKey }).max(254, { message: 'email.invalid' }));

/**
 * A business identification number: 12 digits whose last one is the check digit of the first eleven,
 * by the same rule as the IIN (the first digits encode the registration, not a birth date).
 */
export const binSchema = z
  .string()
  .transform((v) => v.replace(/\s+/g, ''))
  .superRefine((value, ctx) => {
    if (!/^\d{12}$/.test(value)) ctx.addIssue({ code: 'custom', message: 'bin.length' satisfies MessageKey });
    else if (iinCheckDigit(value.slice(0, 11)) !== Number(value[11])) ctx.addIssue({ code: 'custom', message: 'bin.checksum' satisfies MessageKey });
  });

const regions = new Intl.DisplayNames(['en'], { type: 'region', fallback: 'none' });

/** An ISO 3166-1 alpha-2 country code (upper-cased), checked against the runtime's ICU region list. */
export const countrySchema = z
  .string()
  .trim()
  .toUpperCase()
  .refine((code) => /^[A-Z]{2}$/.test(code) && regions.of(code) !== undefined && !['EU', 'UN', 'EZ', 'QO', 'XA', 'XB', 'ZZ'].includes(code), {
    message: 'country.invalid' satisfies MessageKey,
  });

/**
 * A staff member's id as a token names them (`sub`: operator-7, a.serikova@chamber.kz): letters,
 * digits and . _ - @ :, at least one letter, at most 200. An assignee travels in `appeal.assigned` and
 * stays in the audit for good, so it must be an id, not free text that could hold a person's data.
 */
export const STAFF_ID = /^(?=.*\p{L})[\p{L}\p{N}._@:-]{1,200}$/u;
export const staffIdSchema = z
  .string()
  .trim()
  .min(1, { message: 'text.required' satisfies MessageKey })
  .regex(STAFF_ID, { message: 'staffId.invalid' satisfies MessageKey });

export function textSchema(min: number, max: number) {
  return z
    .string()
    .trim()
    .min(1, { message: 'text.required' satisfies MessageKey })
    .min(min, { message: 'text.tooShort' satisfies MessageKey })
    .max(max, { message: 'text.tooLong' satisfies MessageKey });
}
