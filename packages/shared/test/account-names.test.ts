import { describe, expect, it } from 'vitest';
import { isAcceptableAccountName, looksLikePlatformActor } from '../src';

describe("account names never pose as the platform's own actors", () => {
  it('refuses the reserved ids in any case, compatibility form or look-alike (confusables skeleton)', () => {
    for (const name of [
      'anonymous',
      'ANONYMOUS',
      'аnonymous',
      'anonyrnous',
      'public',
      'pub1ic',
      'ｐｕｂｌｉｃ',
      'unauthenticated',
      'system:retention',
      'SYSTEM:x',
      'ѕуѕtem:bootstrap',
    ]) {
      expect(looksLikePlatformActor(name), name).toBe(true);
      expect(isAcceptableAccountName(name), name).toBe(false);
    }
  });

  it('refuses whitespace at either end and control or format characters anywhere', () => {
    for (const name of ['public ', ' dpo', 'dpo\u200b', '\u202Edpo', 'dpo\u0000', '']) expect(isAcceptableAccountName(name), JSON.stringify(name)).toBe(false);
  });

  it('accepts ordinary staff ids, in Latin or Cyrillic, that merely contain a reserved word', () => {
    for (const name of ['dpo', 'operator-1', 'aigul@chamber.kz', 'Айгүл', 'publicity', 'anonymous-reports', '3f0c2a8e-6b1d-4c3e-9a51-2b7d8e4f1a90']) {
      expect(isAcceptableAccountName(name), name).toBe(true);
    }
  });
});
