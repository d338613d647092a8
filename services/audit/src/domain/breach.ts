import { SUBJECT_CATEGORIES, textSchema, type MessageKey } from '@pdp/shared';
import { z } from 'zod';

/**
 * What a person tells about a breach they found (7.2.2), and what the report to the authorized body
 * states (Law 44-VIII, Order 481): every field checked at once, one message per bad field. The texts
 * describe the breach and the Chamber's response; subjects are counted and named by category only.
 */
const detectedAtSchema = z
  .string()
  .trim()
  .refine((v) => /^\d{4}-\d{2}-\d{2}T/.test(v) && z.iso.datetime({ offset: true }).safeParse(v).success, {
    message: 'datetime.invalid' satisfies MessageKey,
    abort: true,
  })
  .transform((v) => new Date(v))
  // A minute of clock difference is allowed; a breach is not found in the future.
  .refine((d) => d.getTime() <= Date.now() + 60_000, { message: 'date.future' satisfies MessageKey });

export const breachInput = z.object({
  description: textSchema(10, 4000),
  detectedAt: detectedAtSchema,
  affectedSubjects: z
    .number()
    .int()
    .min(0, { message: 'number.negative' satisfies MessageKey })
    .nullish(),
  categories: z
    .array(z.enum(SUBJECT_CATEGORIES, { message: 'category.unknown' satisfies MessageKey }))
    .max(SUBJECT_CATEGORIES.length, { message: 'list.tooLong' satisfies MessageKey })
    .nullish(),
});
export type BreachInputParsed = {
  description: string;
  detectedAt: Date;
  affectedSubjects: number | null;
  categories: string[] | null;
};

/** A telephone number of the responsible person: digits with the usual separators, an optional +. */
const contactPhone = z
  .string()
  .trim()
  .refine((v) => /^\+?[\d\s()-]{6,25}$/.test(v) && (v.match(/\d/g)?.length ?? 0) >= 6, { message: 'phone.contact' satisfies MessageKey });

export const breachReportInput = z.object({
  contactName: textSchema(3, 300),
  contactPhone,
  measures: textSchema(10, 4000),
  subjectNotification: textSchema(10, 4000),
});
