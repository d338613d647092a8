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
  'bin.length': { KK: 'БСН 12 цифрдан тұруы керек', RU: 'БИН должен состоять из 12 цифр' },
  'bin.checksum': { KK: 'БСН бақылау саны сәйкес келмейді', RU: 'Контрольная цифра БИН не совпадает' },
  'country.invalid': { KK: 'Ел коды ISO 3166-1 бойынша екі әріп болуы керек', RU: 'Код страны должен быть из двух букв по ISO 3166-1' },
  'creditor.binTaken': { KK: 'Бұл БСН-мен кредитор тіркелген', RU: 'Кредитор с этим БИН уже зарегистрирован' },
  'transfer.consentRequired': {
    KK: 'Субъектінің деректерді үшінші тұлғаларға беруге келісімі жоқ немесе ол кері қайтарылған',
    RU: 'Нет действующего согласия субъекта на передачу данных третьим лицам',
  },
  'transfer.crossBorder': {
    KK: 'Дербес деректер Қазақстаннан тыс кредиторға берілмейді (3.3-тармақ)',
    RU: 'Персональные данные не передаются кредитору за пределами Казахстана (пункт 3.3)',
  },
  'transfer.notForwarded': { KK: 'Бұл өтініш сіздің ұйымыңызға жіберілмеген', RU: 'Это обращение не передавалось вашей организации' },
  'email.invalid': { KK: 'Электрондық пошта мекенжайы дұрыс емес', RU: 'Неверный адрес электронной почты' },
  'text.required': { KK: 'Өріс толтырылуы керек', RU: 'Поле обязательно для заполнения' },
  'text.tooShort': { KK: 'Мәтін тым қысқа', RU: 'Текст слишком короткий' },
  'text.tooLong': { KK: 'Мәтін тым ұзын', RU: 'Текст слишком длинный' },
  'text.nul': { KK: 'Мәтінде рұқсат етілмеген таңба (NUL) бар', RU: 'Текст содержит недопустимый символ (NUL)' },
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
  'state.transition': {
    KK: 'Өтінішті «{from}» күйінен «{to}» күйіне ауыстыруға болмайды',
    RU: 'Обращение нельзя перевести из статуса «{from}» в статус «{to}»',
  },
  'state.subjectStatus': {
    KK: 'Субъектінің ағымдағы мәртебесінде бұл әрекет мүмкін емес',
    RU: 'При текущем статусе субъекта это действие невозможно',
  },
  'state.actOpen': { KK: 'Субъектіде аяқталмаған жою актісі бар', RU: 'У субъекта уже есть незавершённый акт уничтожения' },
  'state.actDecided': { KK: 'Акт бойынша шешім қабылданып қойған', RU: 'Решение по акту уже принято' },
  'state.requestDecided': { KK: 'Сұрау бойынша шешім қабылданып қойған', RU: 'Решение по запросу уже принято' },
  'state.iinTaken': { KK: 'Бұл ЖСН басқа субъектіге тиесілі', RU: 'Этот ИИН принадлежит другому субъекту' },
  'internal': { KK: 'Ішкі қате', RU: 'Внутренняя ошибка' },
  'http.malformed': { KK: 'Сұрау денесі дұрыс JSON емес', RU: 'Тело запроса не является корректным JSON' },
  'http.tooLarge': { KK: 'Сұрау тым үлкен', RU: 'Запрос слишком большой' },
  'http.unsupported': { KK: 'Сұрау кодировкасына қолдау көрсетілмейді', RU: 'Кодировка запроса не поддерживается' },
  'http.method': { KK: 'Тек GET және POST әдістері қабылданады', RU: 'Принимаются только методы GET и POST' },
  'http.contentType': { KK: 'POST сұрауының денесі application/json болуы керек', RU: 'Тело POST-запроса должно быть в формате application/json' },
  'http.batching': { KK: 'Бір сұрауда бірнеше операция жіберуге болмайды', RU: 'Несколько операций в одном запросе не принимаются' },
  'http.csrf': {
    KK: 'GET сұрауына apollo-require-preflight немесе x-apollo-operation-name тақырыбы қажет',
    RU: 'GET-запросу нужен заголовок apollo-require-preflight или x-apollo-operation-name',
  },
  'http.getMutation': { KK: 'Өзгерту операциялары тек POST арқылы жіберіледі', RU: 'Изменяющие операции принимаются только методом POST' },
  'graphql.queryMissing': { KK: 'Сұрауда query мәтіні жоқ', RU: 'В запросе нет текста query' },
  'graphql.persistedQuery': {
    KK: 'Сақталған сұрауларға қолдау көрсетілмейді: query мәтінін жіберіңіз',
    RU: 'Сохранённые запросы не поддерживаются: передайте текст query',
  },
  'graphql.syntax': { KK: 'GraphQL сұрауында синтаксис қатесі бар', RU: 'Синтаксическая ошибка в запросе GraphQL' },
  'graphql.invalid': { KK: 'Сұрау схемаға сәйкес келмейді', RU: 'Запрос не соответствует схеме' },
  'graphql.operationName': {
    KK: 'Сұрауда бірнеше операция бар: operationName көрсетіңіз',
    RU: 'В запросе несколько операций: укажите operationName',
  },
  'graphql.operationUnknown': { KK: 'Мұндай атаумен операция жоқ', RU: 'Операция с таким именем не найдена' },
  'graphql.introspection': { KK: 'Схеманы сұрауға рұқсат жоқ', RU: 'Запрос схемы запрещён' },
  'input.wrongType': { KK: 'Мәннің түрі дұрыс емес', RU: 'Неверный тип значения' },
  'input.unknownField': { KK: 'Белгісіз өріс', RU: 'Неизвестное поле' },
  'input.missing': { KK: 'Міндетті өріс берілмеген', RU: 'Не передано обязательное поле' },
  'cursor.invalid': { KK: 'Бет курсоры дұрыс емес', RU: 'Неверный курсор страницы' },
  'id.invalid': { KK: 'Идентификатор дұрыс емес', RU: 'Неверный идентификатор' },
  'page.range': { KK: 'Бет өлшемі 1-ден {max}-ға дейін болуы керек', RU: 'Размер страницы должен быть от 1 до {max}' },
  'list.tooLong': { KK: 'Тізімде элементтер тым көп', RU: 'Слишком много элементов в списке' },
  'ops.unavailable': {
    KK: 'Қызмет қазір жауап бермейді: кейінірек қайталаңыз',
    RU: 'Служба сейчас не отвечает: повторите позже',
  },
  'limit.aliases': { KK: 'Сұрауда бүркеншік аттар тым көп', RU: 'Слишком много псевдонимов полей в запросе' },
  'limit.tokens': { KK: 'Сұрау тым ұзын', RU: 'Запрос слишком длинный' },
  'limit.directives': { KK: 'Сұрауда директивалар тым көп', RU: 'Слишком много директив в запросе' },
  'limit.cost': { KK: 'Сұрау тым ауыр', RU: 'Запрос слишком сложный' },
  'limit.depth': { KK: 'Сұрау тым терең', RU: 'Запрос слишком глубокий' },
  'period.invalid': { KK: 'Күн ЖЖЖЖ-АА-КК түрінде болуы керек', RU: 'Дата должна быть в формате ГГГГ-ММ-ДД' },
  'period.order': { KK: 'Кезеңнің соңы басынан бұрын болмауы керек', RU: 'Конец периода не может быть раньше начала' },
  'period.tooLong': { KK: 'Кезең бір жылдан аспауы керек', RU: 'Период не может быть длиннее года' },
  'incident.transition': {
    KK: 'Инцидентті «{from}» күйінен бұл әрекетпен ауыстыруға болмайды',
    RU: 'Инцидент в статусе «{from}» нельзя перевести этим действием',
  },
  'date.invalid': { KK: 'Күн ЖЖЖЖ-АА-КК түріндегі нақты күн болуы керек', RU: 'Дата должна быть существующей датой в формате ГГГГ-ММ-ДД' },
  'date.future': { KK: 'Күн бүгіннен кейін болмауы керек', RU: 'Дата не может быть позже сегодняшней' },
  'date.past': { KK: 'Күн бүгіннен бұрын болмауы керек', RU: 'Дата не может быть раньше сегодняшней' },
  'template.unknownCode': { KK: 'Мұндай келісім үлгісі жоқ', RU: 'Такого шаблона согласия нет' },
  'consent.withdrawalForbidden': {
    KK: 'Келісімді кері қайтарып алуға болмайды: орындалмаған міндеттемелер бар — {count} (мерзімі: {dueDates}); олар орындалғанша келісім күшінде қалады (5.2-тармақ)',
    RU: 'Согласие нельзя отозвать: есть неисполненные обязательства — {count} (срок: {dueDates}); пока они не исполнены, согласие остаётся в силе (пункт 5.2)',
  },
  'template.effectiveOrder': {
    KK: 'Жаңа нұсқа алдыңғы нұсқадан бұрын күшіне ене алмайды',
    RU: 'Новая версия не может вступить в силу раньше предыдущей',
  },
  'state.consentWithdrawn': { KK: 'Келісім кері қайтарылып алынған', RU: 'Согласие уже отозвано' },
  'state.employmentEnded': {
    KK: 'Бұл субъектімен күшіндегі еңбек қатынастары тіркелмеген',
    RU: 'Действующих трудовых отношений с этим субъектом не зарегистрировано',
  },
  'state.obligationFulfilled': { KK: 'Міндеттеме орындалып қойған', RU: 'Обязательство уже исполнено' },
  'rate.limited': { KK: 'Сұраулар тым көп: бір минуттан кейін қайталаңыз', RU: 'Слишком много запросов: повторите через минуту' },
} as const satisfies Record<string, Record<Locale, string>>;

export type MessageKey = keyof typeof messages;

/** Every message key, for the test that reads each one in both languages. */
export const MESSAGE_KEYS = Object.keys(messages) as MessageKey[];

export function t(key: MessageKey, locale: Locale = DEFAULT_LOCALE, params?: Record<string, string | number>): string {
  const text: string = messages[key][locale];
  return params ? text.replace(/\{(\w+)\}/g, (_, name: string) => String(params[name] ?? '')) : text;
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
