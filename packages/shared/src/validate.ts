import type { z } from 'zod';
import { BadUserInputError } from './errors';
import { isMessageKey, type Locale } from './i18n';

/**
 * Validates input at a boundary. Every bad field becomes its own BAD_USER_INPUT error naming the
 * field, in the caller's locale (so a person fixes a form in one pass); nothing has been stored when
 * this throws.
 */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown, locale: Locale): z.output<S> {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  const byField = new Map<string, BadUserInputError>();
  for (const issue of parsed.error.issues) {
    const field = issue.path.map(String).join('.') || 'input';
    if (byField.has(field)) continue;
    byField.set(field, new BadUserInputError(field, isMessageKey(issue.message) ? issue.message : 'input.invalid', locale));
  }
  throw BadUserInputError.many([...byField.values()]);
}
