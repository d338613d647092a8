/**
 * Account names as the audit shows them: an account (a token's `sub`, a grant's `account`) must not
 * read as one of the platform's own actors — `anonymous` (the public forms), `public`,
 * `unauthenticated` (a refused token), `system:*` (the retention sweep, the event checks…) — or a
 * person's actions would look like the platform's in the audit.
 *
 * "Read as" covers more than spelling: any case, any Unicode compatibility form (`ｐｕｂｌｉｃ`), and any
 * string whose confusables skeleton (Unicode TS #39) is the skeleton of one of them — `аnonymous`
 * with a Cyrillic "а", `pub1ic`, `anonyrnous`. The skeletons come from `unhomoglyph` (Unicode's
 * confusables.txt as data, kept by the nodeca project), after NFKC and lower-casing. A name with
 * whitespace at either end, or a control, format or unassigned character anywhere (`public\u200b`,
 * `\u202Epublic`), is refused outright: it cannot be shown to a person as what it is.
 */
import unhomoglyph from 'unhomoglyph';

const RESERVED = ['anonymous', 'public', 'unauthenticated'] as const;
const RESERVED_PREFIX = 'system:';

/** The skeleton that decides whether two names look alike (TS #39, applied case-insensitively). */
export function confusableSkeleton(name: string): string {
  return unhomoglyph(name.normalize('NFKC').toLowerCase().normalize('NFD')).normalize('NFD').toLowerCase();
}

const RESERVED_SKELETONS = new Set(RESERVED.map(confusableSkeleton));
const PREFIX_SKELETON = confusableSkeleton(RESERVED_PREFIX);

/** Whether `name` is, or looks like, one of the platform's own actor ids. */
export function looksLikePlatformActor(name: string): boolean {
  const skeleton = confusableSkeleton(name);
  return RESERVED_SKELETONS.has(skeleton) || skeleton.startsWith(PREFIX_SKELETON);
}

/** An account name a person can be shown and the audit can keep: clean, and not the platform's. */
export function isAcceptableAccountName(name: string): boolean {
  return name.length > 0 && name === name.trim() && !/\p{C}/u.test(name) && !looksLikePlatformActor(name);
}
