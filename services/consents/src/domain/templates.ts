import { isoDateSchema, kazakhstanMidnight, kazakhstanToday, pastDateSchema, textSchema, type MessageKey } from '@pdp/shared';
import { z } from 'zod';
import { TEMPLATE_CODES } from './consent';

/**
 * A new version of a consent text (clause 8.3: changes are approved and versioned). Its Art. 8(4)
 * content may change with it; when not given, the previous version's carries over. The date it takes
 * effect is today or later: a version cannot reach back to what people already saw.
 */
export const contentInput = z.object({
  purpose: textSchema(3, 1000),
  dataItems: z.array(textSchema(1, 300)).min(1, { message: 'text.required' }).max(50, { message: 'list.tooLong' }),
  term: textSchema(3, 1000),
  thirdPartyTransfer: z.boolean(),
  crossBorderTransfer: z.boolean(),
  publicSources: z.boolean(),
});
export type ContentInput = z.output<typeof contentInput>;

/** A date (that day in Kazakhstan; today means from now) or an ISO date-time with an offset. */
const isoDateTime = z.iso.datetime({ offset: true });
const effectiveSchema = z
  .string()
  .trim()
  // One refinement with its own key (a union of the two reported the generic input.invalid).
  .refine((value) => isoDateSchema.safeParse(value).success || isoDateTime.safeParse(value).success, {
    message: 'date.invalid' satisfies MessageKey,
    abort: true,
  })
  .transform((value, ctx) => {
    const now = new Date();
    const at = value.length === 10 ? (value === kazakhstanToday(now) ? now : kazakhstanMidnight(value)) : new Date(value);
    if (at.getTime() < now.getTime() - 60_000) {
      ctx.addIssue({ code: 'custom', message: 'date.past' satisfies MessageKey });
      return z.NEVER;
    }
    return at < now ? now : at;
  });

/** The Chairman's order that approved a version (8.3): its number and the day it was signed. */
export const approvalOrderInput = z.object({
  number: textSchema(1, 50),
  date: pastDateSchema,
});

/** The order's date has come (it is signed) and the version takes effect today or later: never before it. */
export const publishInput = z.object({
  code: z.enum(TEMPLATE_CODES, { message: 'template.unknownCode' satisfies MessageKey }),
  locale: z.enum(['KK', 'RU']),
  title: textSchema(3, 300),
  body: textSchema(20, 50_000),
  effectiveFrom: effectiveSchema,
  content: contentInput.nullish(),
  approvalOrder: approvalOrderInput,
});
export type PublishInput = z.output<typeof publishInput>;

/** The longest text a template may have: the subgraph's argument check lets it through. */
export const MAX_TEMPLATE_TEXT = 50_000;
