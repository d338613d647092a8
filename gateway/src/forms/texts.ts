import { kazakhstanToday, type Locale } from '@pdp/shared';

/**
 * Everything a person reads on the public forms (Annexes 3–5), in Kazakh and Russian (8.1). The
 * Kazakh labels, notes and buttons are the regulation's own; the Russian ones translate them. Error
 * messages are not here: the page shows the API's own (packages/shared/src/i18n.ts).
 */
export type Text = Record<Locale, string>;

export const FORM_KINDS = ['appeal', 'complaint', 'schedule'] as const;
export type FormSlug = (typeof FORM_KINDS)[number];

export interface FormTexts {
  kind: 'APPEAL' | 'COMPLAINT' | 'SCHEDULE_REQUEST';
  annex: number;
  site: string;
  heading: Text;
  notes: Text[];
  submit: Text;
  accepted: Text;
}

const PAYMENT_NOTE: Text = {
  KK: 'Мерзімін кешіктірудің сомасы мен мерзіміне байланысты кредитор немесе коллекторлық агенттік бастапқы жарнаны сұрауы мүмкін.',
  RU: 'В зависимости от суммы и срока просрочки кредитор или коллекторское агентство может попросить первоначальный взнос.',
};

const FILL_IN_NOTE: Text = {
  KK: 'Дұрыс толтырылған өтінім оған тезірек жауап беруге және Сіздің мәселеңізді шешуге мүмкіндік береді. «Қарыз туралы аңыздар» және «Сұрақтар және жауаптар» бөлімдердегі ақпаратпен танысу Сізге пайдалы болуы мүмкін.',
  RU: 'Правильно заполненная заявка позволит быстрее на неё ответить и решить вашу проблему. Вам может быть полезно ознакомиться с информацией в разделах «Мифы о долгах» и «Вопросы и ответы».',
};

export const FORMS: Record<FormSlug, FormTexts> = {
  appeal: {
    kind: 'APPEAL',
    annex: 3,
    site: 'collectors.kz',
    heading: { KK: 'Палатаға жүгіну', RU: 'Обращение в Палату' },
    notes: [PAYMENT_NOTE],
    submit: { KK: 'Өтінішті жіберу', RU: 'Отправить обращение' },
    accepted: { KK: 'Өтінішіңіз қабылданды', RU: 'Ваше обращение принято' },
  },
  complaint: {
    kind: 'COMPLAINT',
    annex: 4,
    site: 'stop-collector.kz',
    heading: { KK: 'Шағым жіберу', RU: 'Отправить жалобу' },
    notes: [FILL_IN_NOTE],
    submit: { KK: 'Шағымды жіберу', RU: 'Отправить жалобу' },
    accepted: { KK: 'Шағымыңыз қабылданды', RU: 'Ваша жалоба принята' },
  },
  schedule: {
    kind: 'SCHEDULE_REQUEST',
    annex: 5,
    site: 'stop-collector.kz',
    heading: { KK: 'Кестені алу', RU: 'Получить график' },
    notes: [FILL_IN_NOTE, PAYMENT_NOTE],
    submit: { KK: 'Графикті алғым келеді', RU: 'Хочу получить график' },
    accepted: { KK: 'Кестені алу туралы сұрауыңыз қабылданды', RU: 'Ваш запрос на получение графика принят' },
  },
};

export const FIELDS = ['iin', 'phone', 'email', 'description', 'privacyPolicyAccepted'] as const;
export type FieldName = (typeof FIELDS)[number];

/** The page's own words; `{…}` are filled in when rendered. */
export const PAGE = {
  chamber: { KK: 'Қазақстанның ұлттық коллекторлар палатасы', RU: 'Национальная палата коллекторов Казахстана' },
  skip: { KK: 'Негізгі мазмұнға өту', RU: 'Перейти к основному содержанию' },
  annex: { KK: '№{n} қосымша · {site}', RU: 'Приложение № {n} · {site}' },
  language: { KK: 'Тілді таңдау', RU: 'Выбор языка' },
  iin: { KK: 'ЖСН (сәйкестендіру нөмірі)', RU: 'ИИН (индивидуальный идентификационный номер)' },
  iinHint: { KK: '12 цифр', RU: '12 цифр' },
  phone: { KK: 'Телефон нөмірі', RU: 'Номер телефона' },
  phoneHint: { KK: 'Қазақстанның ұялы нөмірі, мысалы +7 701 123 45 67', RU: 'Мобильный номер Казахстана, например +7 701 123 45 67' },
  email: { KK: 'Эл. пошта', RU: 'Эл. почта' },
  emailHint: { KK: 'Мысалы, aigerim@mail.kz', RU: 'Например, aigerim@mail.kz' },
  description: { KK: 'Жағдайыңызды сипаттап беріңіз', RU: 'Опишите вашу ситуацию' },
  descriptionHint: { KK: '{min}-нан {max}-ға дейін таңба', RU: 'От {min} до {max} символов' },
  consentBefore: { KK: 'Мен ', RU: 'Я согласен(-на) с ' },
  consentLink: { KK: 'құпиялылық саясатымен', RU: 'политикой конфиденциальности' },
  consentAfter: { KK: ' келісемін', RU: '' },
  policyVersion: { KK: '{v}-нұсқа, {date} бастап күшінде', RU: 'Версия {v}, действует с {date}' },
  // What a consent states (Art. 8(4) of the Law), from the consent text's version in force.
  contentHeading: { KK: 'Келісімнің мазмұны (Заңның 8-бабының 4-тармағы)', RU: 'Содержание согласия (пункт 4 статьи 8 Закона)' },
  contentOperator: { KK: 'Оператор', RU: 'Оператор' },
  contentBin: { KK: 'БСН', RU: 'БИН' },
  contentPurpose: { KK: 'Өңдеу мақсаты', RU: 'Цель обработки' },
  contentData: { KK: 'Жиналатын дербес деректер тізбесі', RU: 'Перечень собираемых персональных данных' },
  contentTerm: { KK: 'Келісімнің және өңдеудің мерзімі', RU: 'Срок согласия и обработки' },
  contentThirdParty: { KK: 'Үшінші тұлғаларға беру', RU: 'Передача третьим лицам' },
  contentCrossBorder: { KK: 'Трансшекаралық беру', RU: 'Трансграничная передача' },
  contentPublic: { KK: 'Жалпыға қолжетімді көздерде жариялау', RU: 'Публикация в общедоступных источниках' },
  yes: { KK: 'Иә', RU: 'Да' },
  no: { KK: 'Жоқ', RU: 'Нет' },
  contentVersion: { KK: 'Келісім мәтіні: {v}-нұсқа, {date} бастап күшінде', RU: 'Текст согласия: версия {v}, действует с {date}' },
  errorSummary: { KK: 'Нысанда қателер бар', RU: 'В форме есть ошибки' },
  errorPrefix: { KK: 'Қате:', RU: 'Ошибка:' },
  titleError: { KK: 'Қате', RU: 'Ошибка' },
  reference: { KK: 'Өтініштің нөмірі', RU: 'Номер обращения' },
  deadline: { KK: 'Жауап беру мерзімі', RU: 'Срок ответа' },
  deadlineNote: {
    KK: 'Жауап осы күннен кешіктірілмей беріледі (жұмыс күндері ескеріледі). Нөмірді сақтаңыз: ол арқылы өтініштің мәртебесін білуге болады.',
    RU: 'Ответ будет дан не позднее этой даты (считаются рабочие дни). Сохраните номер: по нему можно узнать статус обращения.',
  },
  another: { KK: 'Тағы бір өтініш жіберу', RU: 'Отправить ещё одно обращение' },
  sending: { KK: 'Жіберілуде…', RU: 'Отправка…' },
  unavailable: { KK: 'Нысан уақытша қолжетімсіз. Бір минуттан кейін қайталап көріңіз.', RU: 'Форма временно недоступна. Попробуйте через минуту.' },
  notFound: { KK: 'Мұндай бет жоқ', RU: 'Такой страницы нет' },
  crossSite: {
    KK: 'Нысан басқа сайттан жіберілді, сондықтан қабылданбады және ештеңе сақталмады. Өтініш жіберу үшін нысанды осы жерде ашыңыз.',
    RU: 'Форма отправлена с другого сайта, поэтому не принята, и ничего не сохранено. Чтобы отправить обращение, откройте форму здесь.',
  },
  openForm: { KK: 'Нысанды ашу', RU: 'Открыть форму' },
  tokenInvalid: {
    KK: 'Бет тексерілмеді (ол басқа браузерде ашылған немесе cookie өшірулі). Ештеңе сақталмады: деректерді тексеріп, нысанды қайта жіберіңіз.',
    RU: 'Страницу не удалось проверить (она открыта в другом браузере или отключены cookie). Ничего не сохранено: проверьте данные и отправьте форму ещё раз.',
  },
  tokenExpired: {
    KK: 'Бет ескірді. Ештеңе сақталмады: деректерді тексеріп, нысанды қайта жіберіңіз.',
    RU: 'Страница устарела. Ничего не сохранено: проверьте данные и отправьте форму ещё раз.',
  },
} as const satisfies Record<string, Text>;

export type PageKey = keyof typeof PAGE;

export function text(key: PageKey, locale: Locale, params: Record<string, string | number> = {}): string {
  return PAGE[key][locale].replace(/\{(\w+)\}/g, (_, name: string) => String(params[name] ?? ''));
}

/**
 * A day as a person in Kazakhstan writes it (DD.MM.YYYY): a calendar day (YYYY-MM-DD) as it is, a
 * moment (an ISO timestamp) on Kazakhstan's calendar — 23:37 UTC on the 6th is already the 7th there.
 */
export function localDate(iso: string): string {
  const day = iso.length > 10 ? kazakhstanToday(new Date(iso)) : iso;
  const [y, m, d] = day.slice(0, 10).split('-');
  return `${d}.${m}.${y}`;
}
