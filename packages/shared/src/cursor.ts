import { BadUserInputError } from './errors';
import type { Locale } from './i18n';
import { UUID_PATTERN } from './validators';

/**
 * Opaque page cursors: the sort key of the last row a page returned (a timestamp and an id), in
 * base64url. Stable under new inserts, since the next page starts strictly after that key.
 */
export interface CursorKey {
  at: string;
  id: string;
}

export function encodeCursor(key: CursorKey): string {
  return Buffer.from(JSON.stringify([key.at, key.id])).toString('base64url');
}

/** Decodes a cursor a client sent back; anything it did not get from us is BAD_USER_INPUT on `after`. */
export function decodeCursor(cursor: string | null | undefined, locale: Locale, idPattern: RegExp = UUID_PATTERN): CursorKey | null {
  if (cursor === null || cursor === undefined) return null;
  try {
    const parsed: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (
      Array.isArray(parsed) &&
      parsed.length === 2 &&
      typeof parsed[0] === 'string' &&
      typeof parsed[1] === 'string' &&
      idPattern.test(parsed[1]) &&
      !Number.isNaN(Date.parse(parsed[0]))
    ) {
      return { at: parsed[0], id: parsed[1] };
    }
  } catch {
    // fall through
  }
  throw new BadUserInputError('after', 'cursor.invalid', locale);
}
