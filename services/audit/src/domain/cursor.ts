import { BadUserInputError, type Locale } from '@pdp/shared';

/** Opaque cursors of `auditEntries`: the last entry's seq, versioned, in base64url. */
export function encodeAuditCursor(seq: string): string {
  return Buffer.from(`audit:1:${seq}`).toString('base64url');
}

/** The seq a cursor stands for; anything we did not hand out is BAD_USER_INPUT on `after`. */
export function decodeAuditCursor(cursor: string | null | undefined, locale: Locale): string | null {
  if (cursor === null || cursor === undefined) return null;
  const match = /^audit:1:([1-9]\d{0,18})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!match) throw new BadUserInputError('after', 'cursor.invalid', locale);
  return match[1]!;
}
