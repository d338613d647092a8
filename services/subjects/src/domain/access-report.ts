import type { Locale } from '@pdp/shared';
import type { SubjectRecord } from './subject';

type Text = Record<Locale, string>;

/**
 * The access report is handed to the person (6.1.1): every text in it is in Kazakh or Russian, in
 * the caller's language. The access record keeps stable field names (`SUBJECTS_DATA_FIELDS`).
 */
export const SUBJECTS_DATA_FIELDS = ['iin', 'categories', 'sources', 'purposes', 'blocks', 'rectification_requests'];

const SUBJECTS_DATA_ITEMS: Text[] = [
  { KK: 'ЖСН (шифрланған)', RU: 'ИИН (в зашифрованном виде)' },
  { KK: 'субъект санаттары', RU: 'категории субъекта' },
  { KK: 'деректер көздері', RU: 'источники данных' },
  { KK: 'өңдеу мақсаттары', RU: 'цели обработки' },
  { KK: 'бұғаттау тарихы', RU: 'история блокирования' },
  { KK: 'түзету туралы сұраулар', RU: 'запросы на исправление' },
];

/** What HR and the contracts office add for their categories (3.1.1, 3.1.2). */
const CATEGORY_DATA_ITEMS: Record<string, Text[]> = {
  EMPLOYEE: [
    { KK: 'тегі, аты, әкесінің аты және лауазымы (шифрланған)', RU: 'фамилия, имя, отчество и должность (в зашифрованном виде)' },
    { KK: 'еңбек қатынастарының басталу және аяқталу күндері', RU: 'даты начала и прекращения трудовых отношений' },
  ],
  COUNTERPARTY: [
    { KK: 'тегі, аты, әкесінің аты және шарттың нөмірі (шифрланған)', RU: 'фамилия, имя, отчество и номер договора (в зашифрованном виде)' },
    { KK: 'шарттың күні және келісім нысаны', RU: 'дата договора и форма согласия' },
  ],
};

export function subjectsDataItems(locale: Locale, categories: readonly string[] = []): string[] {
  return [...SUBJECTS_DATA_ITEMS, ...categories.flatMap((c) => CATEGORY_DATA_ITEMS[c] ?? [])].map((t) => t[locale]);
}

/** How the data were collected, by source code (the form, paper, in person). */
export const COLLECTION_METHODS: Record<string, Text> = {
  WEB_FORM_ANNEX_3: {
    KK: 'collectors.kz сайтындағы электрондық нысан (3-қосымша), субъектінің өзі толтырған',
    RU: 'Электронная форма на сайте collectors.kz (приложение 3), заполненная субъектом',
  },
  WEB_FORM_ANNEX_4: {
    KK: 'stop-collector.kz сайтындағы электрондық нысан (4-қосымша), субъектінің өзі толтырған',
    RU: 'Электронная форма на сайте stop-collector.kz (приложение 4), заполненная субъектом',
  },
  WEB_FORM_ANNEX_5: {
    KK: 'stop-collector.kz сайтындағы электрондық нысан (5-қосымша), субъектінің өзі толтырған',
    RU: 'Электронная форма на сайте stop-collector.kz (приложение 5), заполненная субъектом',
  },
  HR: {
    KK: 'Қызметкер немесе жұмысқа үміткер қол қойған 1-қосымша (келісім); кадр қызметі енгізген',
    RU: 'Приложение 1 (согласие), подписанное работником или кандидатом; внесено кадровой службой',
  },
  CONTRACTS: {
    KK: 'Контрагентпен жасалған шарт және ондағы немесе жеке жазбаша келісім; шарттар бөлімі енгізген',
    RU: 'Договор с контрагентом и согласие в нём или отдельное письменное согласие; внесено договорным отделом',
  },
  PAPER: {
    KK: 'Қағаз түрінде келген өтініш, қол қойылған 2-қосымшамен; оператор енгізген',
    RU: 'Обращение на бумаге с подписанным приложением 2; внесено оператором',
  },
  IN_PERSON: {
    KK: 'Палатаға жеке келіп берілген өтініш, қол қойылған 2-қосымшамен; оператор енгізген',
    RU: 'Обращение, поданное лично в Палате, с подписанным приложением 2; внесено оператором',
  },
};

export function collectionMethods(subject: SubjectRecord, locale: Locale): string[] {
  return [...new Set(subject.sources.map((s) => COLLECTION_METHODS[s.code]?.[locale] ?? s.code))];
}
