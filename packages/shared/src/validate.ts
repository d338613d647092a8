import type { z } from 'zod';
import { BadUserInputError } from './errors';
import { isMessageKey, type Locale } from './i18n';

/**
 * Validates input at a boundary. The first problem becomes a BAD_USER_INPUT error naming the field,
 * in the caller's locale; nothing has been stored when this throws.
 */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown, locale: Locale): z.output<S> {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const key = isMessageKey(issue.message) ? issue.message : 'input.invalid';
  throw new BadUserInputError(issue.path.map(String).join('.') || 'input', key, locale);
}
