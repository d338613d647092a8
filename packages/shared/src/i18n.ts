/** Messages a caller sees, in the two languages of the regulation (clause 8.1). */
export type Locale = 'KK' | 'RU';

export const DEFAULT_LOCALE: Locale = 'RU';

const messages = {
  'iin.length': { KK: 'ЖСН 12 цифрдан тұруы керек', RU: 'ИИН должен состоять из 12 цифр' },
  'iin.birthDate': { KK: 'ЖСН-да туған күні дұрыс емес', RU: 'В ИИН указана неверная дата рождения' },
  'iin.century': { KK: 'ЖСН-ның 7-ші цифры 1-ден 6-ға дейін болуы керек', RU: 'Седьмая цифра ИИН должна быть от 1 до 6' },
  'iin.checksum': { KK: 'ЖСН бақылау саны сәйкес келмейді', RU: 'Контрольная цифра ИИН не совпадает' },
  'phone.invalid': {
    KK: 'Телефон нөмірі Қазақстанның ұялы нөмірі болуы керек (+7 7XX XXX XX XX)',
    RU: 'Телефон должен быть мобильным номером Казахстана (+7 7XX XXX XX XX)',
  },
  'email.invalid': { KK: 'Электрондық пошта мекенжайы дұрыс емес', RU: 'Неверный адрес электронной почты' },
  'text.required': { KK: 'Өріс толтырылуы керек', RU: 'Поле обязательно для заполнения' },
  'text.tooShort': { KK: 'Мәтін тым қысқа', RU: 'Текст слишком короткий' },
  'text.tooLong': { KK: 'Мәтін тым ұзын', RU: 'Текст слишком длинный' },
  'privacy.notAccepted': {
    KK: 'Құпиялылық саясатымен келісу қажет',
    RU: 'Необходимо согласие с политикой конфиденциальности',
  },
  'input.invalid': { KK: 'Мән дұрыс емес', RU: 'Неверное значение' },
  'auth.unauthenticated': { KK: 'Жарамды кіру белгісі қажет', RU: 'Требуется действительный токен доступа' },
  'auth.forbidden': { KK: 'Бұл әрекетке рұқсат жоқ', RU: 'Нет прав на это действие' },
  'auth.notViaGateway': {
    KK: 'Сұрау тек шлюз арқылы қабылданады',
    RU: 'Запросы принимаются только через шлюз',
  },
  'notFound': { KK: 'Табылмады', RU: 'Не найдено' },
  'subject.blocked': {
    KK: 'Субъектінің деректері бұғатталған: өңдеу тоқтатылды',
    RU: 'Данные субъекта заблокированы: обработка приостановлена',
  },
  'state.conflict': { KK: 'Әрекет ағымдағы күйде мүмкін емес', RU: 'Действие невозможно в текущем состоянии' },
  'internal': { KK: 'Ішкі қате', RU: 'Внутренняя ошибка' },
} as const satisfies Record<string, Record<Locale, string>>;

export type MessageKey = keyof typeof messages;

export function t(key: MessageKey, locale: Locale = DEFAULT_LOCALE): string {
  return messages[key][locale];
}

/** Picks KK or RU from an Accept-Language header; anything else falls back to Russian. */
export function localeFromAcceptLanguage(header: string | undefined | null): Locale {
  if (!header) return DEFAULT_LOCALE;
  const ranked = header
    .split(',')
    .map((part) => {
      const [tag = '', ...params] = part.trim().toLowerCase().split(';');
      const q = params.find((p) => p.trim().startsWith('q='));
      return { tag, q: q ? Number(q.trim().slice(2)) || 0 : 1 };
    })
    .sort((a, b) => b.q - a.q);
  for (const { tag } of ranked) {
    if (tag.startsWith('kk')) return 'KK';
    if (tag.startsWith('ru')) return 'RU';
  }
  return DEFAULT_LOCALE;
}

export function isMessageKey(value: string): value is MessageKey {
  return Object.hasOwn(messages, value);
}
