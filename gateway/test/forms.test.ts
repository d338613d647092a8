import { describe, expect, it } from 'vitest';
import { formPage, type PageContext } from '../src/forms/render';
import { FORMS, FORM_KINDS, localDate, PAGE, type Text } from '../src/forms/texts';

/**
 * The forms' own words (8.1: Kazakh and Russian) and their HTML: every text in both languages, and
 * whatever a person typed comes back escaped, with each error tied to its field for a screen reader.
 */
const KAZAKH_LETTERS = /[әғқңөұүһіӘҒҚҢӨҰҮҺІ]/;
/** Texts that are legitimately the same (a number of digits) or empty in one language (word order). */
const SAME_IN_BOTH = new Set(['iinHint', 'contentOperator']);
const EMPTY_IN = { consentAfter: 'RU' } as Record<string, string>;

function walk(name: string, text: Text) {
  for (const locale of ['KK', 'RU'] as const) {
    if (EMPTY_IN[name] === locale) continue;
    expect(text[locale].trim(), `${name} ${locale}`).not.toBe('');
    expect(text[locale], `${name} ${locale}`).toMatch(/\p{Script=Cyrillic}/u);
  }
  expect(text.RU, `${name}: Kazakh letters in the Russian text`).not.toMatch(KAZAKH_LETTERS);
  if (!SAME_IN_BOTH.has(name)) expect(text.KK, name).not.toBe(text.RU);
}

const ctx = (over: Partial<PageContext> = {}): PageContext => ({
  slug: 'appeal',
  locale: 'RU',
  policy: { title: 'Политика конфиденциальности', body: 'Первый абзац.\n\nВторой абзац.', version: 2, effectiveFrom: '2026-11-25T00:00:00.000Z' },
  consent: {
    title: 'Согласие',
    body: 'Текст согласия.',
    version: 1,
    effectiveFrom: '2020-11-29T18:00:00.000Z',
    operatorName: 'Национальная палата коллекторов Казахстана',
    operatorBin: '123456789012',
    purpose: 'Рассмотрение жалобы или обращения',
    dataItems: ['ИИН', 'номер телефона'],
    term: 'До достижения цели обработки',
    thirdPartyTransfer: true,
    crossBorderTransfer: false,
    publicSources: false,
  },
  description: { min: 10, max: 5000 },
  token: '1765000000.page-token',
  ...over,
});

describe('the public forms', () => {
  it('every text of every form is in Kazakh and in Russian', () => {
    for (const slug of FORM_KINDS) {
      const form = FORMS[slug];
      for (const [name, text] of [
        ['heading', form.heading],
        ['submit', form.submit],
        ['accepted', form.accepted],
        ...form.notes.map((n, i) => [`note${i}`, n] as const),
      ] as const)
        walk(`${slug}.${name}`, text);
    }
    for (const [name, text] of Object.entries(PAGE)) walk(name, text);
  });

  it('what a person typed comes back escaped; each error is at its field and in the summary', () => {
    const html = formPage(ctx(), {
      values: { description: '<script>alert(1)</script>', email: '"><img src=x onerror=alert(1)>' },
      errors: { iin: 'ИИН должен состоять из 12 цифр', privacyPolicyAccepted: 'Необходимо согласие' },
    });
    expect(html).not.toContain('<script>alert(1)');
    expect(html).not.toContain('<img src=x');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toMatch(/<input id="iin" name="iin" aria-describedby="iin-hint iin-error" aria-invalid="true"/);
    expect(html).toMatch(/<a href="#iin">ИИН должен состоять из 12 цифр<\/a>/);
    expect(html).toMatch(/<a href="#privacyPolicyAccepted">Необходимо согласие<\/a>/);
    expect(html).toMatch(/<title>Ошибка: Обращение в Палату/);
    expect(html).toContain('Версия 2, действует с 25.11.2026');
    // Texts from consents are escaped like anything else.
    expect(formPage(ctx({ policy: { ...ctx().policy, title: '</script><script>x()</script>' } }))).not.toContain('</script><script>x()');
  });

  it('Art. 8(4): the form states the consent text’s operator, BIN, data, term and transfers, and carries the policy version shown', () => {
    const html = formPage(ctx());
    expect(html).toContain('Содержание согласия (пункт 4 статьи 8 Закона)');
    expect(html).toMatch(/<dd data-content="operatorName">Национальная палата коллекторов Казахстана<\/dd>/);
    expect(html).toMatch(/<dd data-content="operatorBin">123456789012<\/dd>/);
    expect(html).toMatch(/<dd data-content="dataItems"><ul><li>ИИН<\/li><li>номер телефона<\/li><\/ul><\/dd>/);
    expect(html).toMatch(/<dd data-content="thirdPartyTransfer">Да<\/dd>/);
    expect(html).toMatch(/<dd data-content="crossBorderTransfer">Нет<\/dd>/);
    expect(html).toMatch(/<dd data-content="publicSources">Нет<\/dd>/);
    expect(html).toContain('<input type="hidden" name="policyVersion" value="2">');
    const kk = formPage(ctx({ locale: 'KK' }));
    expect(kk).toContain('Келісімнің мазмұны (Заңның 8-бабының 4-тармағы)');
    expect(kk).toMatch(/<dd data-content="crossBorderTransfer">Жоқ<\/dd>/);
  });
});

describe('dates on the forms', () => {
  it('a calendar day as it is; a moment on Kazakhstan’s calendar (UTC+5), not UTC’s', () => {
    expect(localDate('2026-12-29')).toBe('29.12.2026');
    expect(localDate('2026-12-06T23:36:55.380Z')).toBe('07.12.2026');
    expect(localDate('2026-12-06T18:59:59.999Z')).toBe('06.12.2026');
  });
});
