import { describe, expect, it } from 'vitest';
import { MESSAGE_KEYS, t, type Locale } from '../src';

/**
 * Clause 8.1: everything a person reads exists in Kazakh and in Russian. Every message key, in both
 * languages: written, different from the other language (Kazakh is not Russian with a new label),
 * Cyrillic, the same placeholders, and no word of English — names of formats and protocols, and the
 * API's role values the caller sends (PUBLIC, PARTNER), aside.
 */
const ALLOWED_LATIN =
  /\b(GraphQL|JSON|ISO|IP|operationName|query|GET|POST|NUL|PUBLIC|PARTNER)\b|application\/json|apollo-require-preflight|x-apollo-operation-name|\+7 7XX XXX XX XX/g;
const KAZAKH_LETTERS = /[әғқңөұүһіӘҒҚҢӨҰҮҺІ]/;
const placeholders = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

describe('messages in both languages', () => {
  it.each(MESSAGE_KEYS)('%s', (key) => {
    const texts: Record<Locale, string> = { KK: t(key, 'KK'), RU: t(key, 'RU') };
    for (const [locale, text] of Object.entries(texts)) {
      expect(text.trim().length, `${key} ${locale}`).toBeGreaterThan(2);
      expect(text, `${key} ${locale}`).toMatch(/\p{Script=Cyrillic}/u);
      expect(text.replace(/\{\w+\}/g, '').replace(ALLOWED_LATIN, ''), `${key} ${locale}: English`).not.toMatch(/[A-Za-z]{3,}/);
    }
    expect(texts.KK).not.toBe(texts.RU);
    expect(texts.RU, `${key}: Kazakh letters in the Russian text`).not.toMatch(KAZAKH_LETTERS);
    expect(placeholders(texts.KK)).toEqual(placeholders(texts.RU));
  });
});
