import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  BadUserInputError,
  checkIin,
  emailSchema,
  iinCheckDigit,
  iinSchema,
  localeFromAcceptLanguage,
  normalizeKzMobile,
  parseInput,
  textSchema,
} from '../src';
import { makeIin } from '../src/testing';

describe('IIN', () => {
  it('accepts a valid IIN and reads birth date and sex from it', () => {
    expect(checkIin(makeIin('1990-05-17', 'M'))).toEqual({ ok: true, birthDate: '1990-05-17', sex: 'M' });
    expect(checkIin(makeIin('2001-12-31', 'F'))).toEqual({ ok: true, birthDate: '2001-12-31', sex: 'F' });
    expect(checkIin(makeIin('1899-01-01', 'M'))).toMatchObject({ ok: true, birthDate: '1899-01-01' });
  });

  it('uses the second weight sequence when the first sum gives 10', () => {
    // Find an 11-digit prefix whose first-pass sum is 10 and check the second pass decides.
    let found = false;
    for (let serial = 0; serial < 10_000 && !found; serial += 1) {
      const first11 = `900517${3}${String(serial).padStart(4, '0')}`;
      const digits = [...first11].map(Number);
      const s1 = digits.reduce((a, d, i) => a + d * (i + 1), 0) % 11;
      if (s1 !== 10) continue;
      const w2 = [3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2];
      const s2 = digits.reduce((a, d, i) => a + d * w2[i]!, 0) % 11;
      expect(iinCheckDigit(first11)).toBe(s2 === 10 ? null : s2);
      if (s2 !== 10) expect(checkIin(`${first11}${s2}`).ok).toBe(true);
      found = true;
    }
    expect(found).toBe(true);
  });

  it.each([
    ['12345', 'length'],
    ['12345678901a', 'length'],
    ['1234567890123', 'length'],
    ['900517700001', 'century'],
    ['900517000001', 'century'],
    ['901317300001', 'birthDate'],
    ['900231300001', 'birthDate'],
  ])('rejects %s (%s)', (iin, problem) => {
    expect(checkIin(iin)).toEqual({ ok: false, problem });
  });

  it('rejects a birth date in the future', () => {
    expect(checkIin(makeIin('2090-01-01'), new Date('2026-11-24'))).toEqual({ ok: false, problem: 'birthDate' });
  });

  it('rejects a wrong check digit', () => {
    const iin = makeIin('1985-03-08', 'F');
    const wrong = `${iin.slice(0, 11)}${(Number(iin[11]) + 1) % 10}`;
    expect(checkIin(wrong)).toEqual({ ok: false, problem: 'checksum' });
  });

  it('strips spaces before checking', () => {
    const iin = makeIin('1990-05-17');
    expect(iinSchema.parse(`${iin.slice(0, 6)} ${iin.slice(6)}`)).toBe(iin);
  });
});

describe('phone', () => {
  it.each([
    ['+7 701 123 45 67', '+77011234567'],
    ['87011234567', '+77011234567'],
    ['8 (747) 123-45-67', '+77471234567'],
    ['7771234567', '+77771234567'],
    ['+77081234567', '+77081234567'],
  ])('normalises %s', (raw, normalized) => {
    expect(normalizeKzMobile(raw)).toBe(normalized);
  });

  it.each(['+79161234567', '+77172123456', '12345', '+7701123456', '+770112345678', 'phone'])('rejects %s', (raw) => {
    expect(normalizeKzMobile(raw)).toBeNull();
  });
});

describe('e-mail and text', () => {
  it('normalises case and rejects malformed addresses', () => {
    expect(emailSchema.parse(' A.Person@Mail.KZ ')).toBe('a.person@mail.kz');
    expect(emailSchema.safeParse('not-an-email').success).toBe(false);
    expect(emailSchema.safeParse(`${'a'.repeat(250)}@x.kz`).success).toBe(false);
  });

  it('bounds text length and trims', () => {
    const s = textSchema(3, 5);
    expect(s.parse('  abc ')).toBe('abc');
    expect(s.safeParse('   ').error?.issues[0]?.message).toBe('text.required');
    expect(s.safeParse('ab').error?.issues[0]?.message).toBe('text.tooShort');
    expect(s.safeParse('abcdef').error?.issues[0]?.message).toBe('text.tooLong');
  });
});

describe('parseInput', () => {
  const schema = z.object({ iin: iinSchema, email: emailSchema });

  it('names the field and translates the message, without echoing the input', () => {
    const iin = '900517300002';
    try {
      parseInput(schema, { iin, email: 'x@y.kz' }, 'KK');
      expect.fail('should throw');
    } catch (err) {
      expect(err).toBeInstanceOf(BadUserInputError);
      const e = err as BadUserInputError;
      expect(e.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'iin' });
      expect(e.message).toMatch(/ЖСН/);
      expect(e.message).not.toContain(iin);
    }
    expect(() => parseInput(schema, { iin: makeIin('1990-01-01'), email: 'bad' }, 'RU')).toThrow(/Неверный адрес/);
  });
});

describe('locale', () => {
  it('picks Kazakh or Russian from Accept-Language by weight', () => {
    expect(localeFromAcceptLanguage('kk-KZ,kk;q=0.9')).toBe('KK');
    expect(localeFromAcceptLanguage('en;q=1,ru;q=0.5,kk;q=0.8')).toBe('KK');
    expect(localeFromAcceptLanguage('ru-RU')).toBe('RU');
    expect(localeFromAcceptLanguage('en-US')).toBe('RU');
    expect(localeFromAcceptLanguage(undefined)).toBe('RU');
  });
});
