import { makeIin } from '@pdp/shared/testing';
import { describe } from 'vitest';
import { expect, test } from '../support/fixtures';
import { form, SUBMIT } from '../support/intake';
import { SERVICE_NAMES, type System } from '../support/system';

const iin = makeIin('1990-05-17', 'M', 42);

/** Every kind of bad input, the field it must name, and a fragment of the Kazakh and Russian message. */
const CASES: Array<[string, Record<string, unknown>, string, RegExp, RegExp]> = [
  ['IIN too short', { iin: '12345' }, 'iin', /12 цифр/, /12 цифр/],
  ['IIN with letters', { iin: '90051730000a' }, 'iin', /12 цифр/, /12 цифр/],
  ['IIN with a bad century digit', { iin: `${iin.slice(0, 6)}7${iin.slice(7)}` }, 'iin', /7-ші цифры/, /Седьмая цифра/],
  ['IIN with an impossible birth date', { iin: '901332300001' }, 'iin', /туған күні/, /дата рождения/],
  ['IIN with a wrong check digit', { iin: `${iin.slice(0, 11)}${(Number(iin[11]) + 1) % 10}` }, 'iin', /бақылау/, /Контрольная/],
  ['a Russian phone number', { phone: '+7 916 123 45 67' }, 'phone', /ұялы нөмірі/, /мобильным номером/],
  ['a phone that is too short', { phone: '701 12' }, 'phone', /ұялы нөмірі/, /мобильным номером/],
  ['a malformed e-mail', { email: 'not-an-email' }, 'email', /пошта/, /почты/],
  ['an empty description', { description: '   ' }, 'description', /толтырылуы/, /обязательно/],
  ['a too short description', { description: 'help' }, 'description', /қысқа/, /короткий/],
  ['a too long description', { description: 'x'.repeat(5001) }, 'description', /ұзын/, /длинный/],
  ['the privacy box not ticked', { privacyPolicyAccepted: false }, 'privacyPolicyAccepted', /құпиялылық/i, /конфиденциальности/],
];

async function assertNothingStored(system: System): Promise<void> {
  expect(await system.db('appeals').selectFrom('appeals').select('id').execute()).toEqual([]);
  expect(await system.db('subjects').selectFrom('subjects').select('id').execute()).toEqual([]);
  expect(await system.db('consents').selectFrom('consents').select('id').execute()).toEqual([]);
  // The one thing a new platform holds: the bootstrap DPO's grant (the access registry's first row).
  const bootstrap = (type: unknown, actor: unknown) => type === 'access.granted' && actor === 'system:bootstrap';
  const entries = await system.db('audit').selectFrom('audit_log').select(['event_type', 'actor_id']).execute();
  expect(entries.filter((e) => !bootstrap(e.event_type, e.actor_id))).toEqual([]);
  for (const name of SERVICE_NAMES) {
    const rows = await system.platformDb(name).selectFrom('outbox').select('payload').execute();
    expect(rows.filter((r) => !bootstrap((r.payload as { type?: string }).type, (r.payload as { actor?: { id?: string } }).actor?.id))).toEqual([]);
  }
}

describe('bad input to submitAppeal stores nothing anywhere', () => {
  test("each kind of bad input is BAD_USER_INPUT naming the field, in the caller's language", async ({ system, gw }) => {
    for (const [, overrides, field, kk, ru] of CASES) {
      const inKazakh = await gw(SUBMIT, { input: form({ ...overrides, locale: 'KK' }) });
      expect(inKazakh.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
      expect(inKazakh.errors?.[0]?.message).toMatch(kk);
      expect(inKazakh.data).toBeNull();
      expect(inKazakh.errors?.[0]?.extensions?.stacktrace).toBeUndefined();
      // No locale in the input: Accept-Language decides.
      const inRussian = await gw(SUBMIT, { input: form(overrides) }, { headers: { 'accept-language': 'ru-RU,ru;q=0.9' } });
      expect(inRussian.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
      expect(inRussian.errors?.[0]?.message).toMatch(ru);
      const viaHeader = await gw(SUBMIT, { input: form(overrides) }, { headers: { 'accept-language': 'kk-KZ' } });
      expect(viaHeader.errors?.[0]?.message).toMatch(kk);
      // The message never repeats what was typed.
      for (const value of Object.values(overrides)) {
        if (typeof value === 'string' && value.trim().length > 3) expect(JSON.stringify(inKazakh.errors)).not.toContain(value);
      }
    }
    await assertNothingStored(system);
  });

  test('an unknown kind or a missing field is refused by the schema, and nothing is stored', async ({ system, gw }) => {
    const badKind = await gw(SUBMIT, { input: form({ kind: 'LETTER' }) });
    expect(badKind.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const { iin: _omitted, ...withoutIin } = form();
    const missing = await gw(SUBMIT, { input: withoutIin });
    expect(missing.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    await assertNothingStored(system);
  });
});
