import type { Locale } from '@pdp/shared';
import type { VerificationResult } from './verification';

/** What the gateway passes between subgraphs for a control report: the key, and the holders' counts. */
export interface ControlReportRef {
  from: string;
  to: string;
  rightsRequests?: number;
  rightsRequestsOverdue?: number;
  erasureActsCompleted?: number;
  consentWithdrawals?: number;
  appealsReceived?: number;
  appealsOverdue?: number;
}

export type HolderCounts = Required<Omit<ControlReportRef, 'from' | 'to'>>;

export interface ReportIncident {
  id: string;
  rule: string;
  status: string;
  detectedAt: string;
  notifyBy: string;
  reportedAt: string | null;
  reportedInTime: boolean;
}

/** The audit's part of a control report (7.2.4). */
export interface AuditPart {
  from: string;
  to: string;
  operations: Array<{ operation: string; count: number }>;
  deniedAttempts: number;
  /** Refusals to let someone decide an incident about their own actions (OWN_INCIDENT). */
  ownIncidentRefusals: number;
  incidentsOpened: number;
  incidentsReportedLate: number;
  incidents: ReportIncident[];
  verification: VerificationResult;
  generatedAt: string;
}

const TEXT = {
  RU: {
    lang: 'ru',
    title: 'Отчёт о контроле мер защиты персональных данных',
    basis: 'Пункт 7.2.4 Положения о сборе, обработке и защите персональных данных Палаты коллекторов Казахстана',
    period: 'Период',
    generated: 'Сформирован',
    operations: 'Операции с персональными данными по видам (пункт 2.2)',
    kind: 'Вид операции',
    count: 'Количество',
    none: 'нет',
    denied: 'Отказы в доступе (все попытки, включая отклонённые шлюзом)',
    incidents: 'Инциденты (пункт 7.2.2) и уведомление уполномоченного органа',
    opened: 'Выявлено инцидентов',
    late: 'Из них сообщено с опозданием или просрочено',
    ownIncident: 'Отказано в рассмотрении инцидента о собственных действиях',
    columns: ['№', 'Правило', 'Статус', 'Выявлен', 'Сообщить до', 'Сообщено', 'В срок'],
    yes: 'да',
    no: 'нет',
    rights: 'Запросы субъектов и сроки',
    rectifications: 'Запросы на исправление данных (6.1.2)',
    rectificationsLate: 'из них со сроком, нарушенным или истёкшим',
    appeals: 'Обращения и жалобы (6.1.7–6.1.8)',
    appealsLate: 'из них просрочены',
    erasures: 'Завершённые акты уничтожения и обезличивания',
    withdrawals: 'Отзывы согласий',
    chain: 'Проверка целостности журнала аудита',
    valid: 'Цепочка записей цела и совпадает с подписанными контрольными точками',
    invalid: 'Цепочка записей нарушена',
    checked: 'Проверено записей',
    through: 'Подтверждено по контрольную точку',
    firstBad: 'Первая неверная запись',
    signature: 'Подпись ответственного лица',
    map: 'Где исполняется каждый пункт Положения и какие тесты это доказывают',
    kinds: {
      COLLECT: 'Сбор',
      STORE: 'Хранение',
      MODIFY: 'Изменение',
      ACCESS: 'Доступ',
      TRANSFER: 'Передача',
      DEPERSONALIZE: 'Обезличивание',
      BLOCK: 'Блокирование',
      UNBLOCK: 'Разблокирование',
      DESTROY: 'Уничтожение',
      DENIED: 'Отказ в доступе',
    } as Record<string, string>,
  },
  KK: {
    lang: 'kk',
    title: 'Дербес деректерді қорғау шараларын бақылау туралы есеп',
    basis: 'Қазақстан коллекторлар палатасының дербес деректерді жинау, өңдеу және қорғау туралы ережесінің 7.2.4-тармағы',
    period: 'Кезең',
    generated: 'Жасалған уақыты',
    operations: 'Дербес деректермен жасалған операциялар түрлері бойынша (2.2-тармақ)',
    kind: 'Операция түрі',
    count: 'Саны',
    none: 'жоқ',
    denied: 'Қол жеткізуден бас тарту (шлюз қабылдамаған әрекеттерді қоса)',
    incidents: 'Инциденттер (7.2.2-тармақ) және уәкілетті органға хабарлау',
    opened: 'Анықталған инциденттер',
    late: 'Оның ішінде кеш хабарланған немесе мерзімі өткен',
    ownIncident: 'Өз әрекеттері туралы инцидентті қарауға бас тартылды',
    columns: ['№', 'Ереже', 'Күйі', 'Анықталды', 'Хабарлау мерзімі', 'Хабарланды', 'Мерзімінде'],
    yes: 'иә',
    no: 'жоқ',
    rights: 'Субъектілердің сұраулары және мерзімдер',
    rectifications: 'Деректерді түзету сұраулары (6.1.2)',
    rectificationsLate: 'оның ішінде мерзімі бұзылған немесе өткен',
    appeals: 'Өтініштер мен шағымдар (6.1.7–6.1.8)',
    appealsLate: 'оның ішінде мерзімі өткен',
    erasures: 'Аяқталған жою және иесіздендіру актілері',
    withdrawals: 'Келісімді кері қайтарып алу',
    chain: 'Аудит журналының тұтастығын тексеру',
    valid: 'Жазбалар тізбегі бүтін және қол қойылған бақылау нүктелерімен сәйкес келеді',
    invalid: 'Жазбалар тізбегі бұзылған',
    checked: 'Тексерілген жазбалар',
    through: 'Расталған бақылау нүктесі',
    firstBad: 'Бірінші дұрыс емес жазба',
    signature: 'Жауапты тұлғаның қолы',
    map: 'Ереженің әр тармағы қай жерде орындалады және оны қандай тестілер дәлелдейді',
    kinds: {
      COLLECT: 'Жинау',
      STORE: 'Сақтау',
      MODIFY: 'Өзгерту',
      ACCESS: 'Қол жеткізу',
      TRANSFER: 'Беру',
      DEPERSONALIZE: 'Иесіздендіру',
      BLOCK: 'Бұғаттау',
      UNBLOCK: 'Бұғаттан шығару',
      DESTROY: 'Жою',
      DENIED: 'Қол жеткізуден бас тарту',
    } as Record<string, string>,
  },
} as const;

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const cell = (v: string | number) => `<td>${escapeHtml(String(v))}</td>`;
const row = (label: string, value: string | number) => `<tr><th scope="row">${escapeHtml(label)}</th>${cell(value)}</tr>`;

/** The control report as one printable HTML page (A4, no scripts, no external resources). */
export function controlReportDocument(audit: AuditPart, holders: HolderCounts, locale: Locale): string {
  const T = TEXT[locale];
  const operations = audit.operations.length
    ? audit.operations.map((o) => `<tr>${cell(T.kinds[o.operation] ?? o.operation)}${cell(o.count)}</tr>`).join('')
    : `<tr><td colspan="2">${T.none}</td></tr>`;
  const incidents = audit.incidents
    .map(
      (i) =>
        `<tr>${[i.id, i.rule, i.status, i.detectedAt.slice(0, 16).replace('T', ' '), i.notifyBy, i.reportedAt?.slice(0, 16).replace('T', ' ') ?? '—', i.reportedInTime ? T.yes : T.no].map(cell).join('')}</tr>`,
    )
    .join('');
  const v = audit.verification;
  return `<!doctype html>
<html lang="${T.lang}"><head><meta charset="utf-8"><title>${escapeHtml(T.title)} ${escapeHtml(audit.from)} — ${escapeHtml(audit.to)}</title>
<style>
  @page { size: A4; margin: 18mm; }
  body { font-family: "Times New Roman", serif; font-size: 12pt; color: #000; }
  h1 { font-size: 15pt; text-align: center; margin-bottom: 2pt; } h2 { font-size: 13pt; margin-top: 14pt; }
  p.basis { text-align: center; font-style: italic; margin-top: 0; }
  table { border-collapse: collapse; width: 100%; margin: 4pt 0; } th, td { border: 1px solid #000; padding: 3pt 5pt; text-align: left; }
  .valid { font-weight: bold; } .invalid { font-weight: bold; color: #a00; } .sign { margin-top: 36pt; }
</style></head>
<body>
<h1>${escapeHtml(T.title)}</h1>
<p class="basis">${escapeHtml(T.basis)}</p>
<p class="basis">${escapeHtml(T.map)}: docs/regulation-map.md</p>
<table>${row(T.period, `${audit.from} — ${audit.to}`)}${row(T.generated, audit.generatedAt.replace('T', ' ').slice(0, 19) + ' UTC')}</table>
<h2>${escapeHtml(T.operations)}</h2>
<table><thead><tr><th>${escapeHtml(T.kind)}</th><th>${escapeHtml(T.count)}</th></tr></thead><tbody>${operations}</tbody></table>
<table>${row(T.denied, audit.deniedAttempts)}</table>
<h2>${escapeHtml(T.incidents)}</h2>
<table>${row(T.opened, audit.incidentsOpened)}${row(T.late, audit.incidentsReportedLate)}${row(T.ownIncident, audit.ownIncidentRefusals)}</table>
${incidents ? `<table><thead><tr>${T.columns.map((c) => `<th>${escapeHtml(c)}</th>`).join('')}</tr></thead><tbody>${incidents}</tbody></table>` : ''}
<h2>${escapeHtml(T.rights)}</h2>
<table>${row(T.rectifications, holders.rightsRequests)}${row(T.rectificationsLate, holders.rightsRequestsOverdue)}${row(T.appeals, holders.appealsReceived)}${row(T.appealsLate, holders.appealsOverdue)}${row(T.erasures, holders.erasureActsCompleted)}${row(T.withdrawals, holders.consentWithdrawals)}</table>
<h2>${escapeHtml(T.chain)}</h2>
<p class="${v.valid ? 'valid' : 'invalid'}">${escapeHtml(v.valid ? T.valid : T.invalid)}</p>
<table>${row(T.checked, v.entriesChecked)}${v.verifiedThroughSeq ? row(T.through, v.verifiedThroughSeq) : ''}${v.firstInvalidSeq ? row(T.firstBad, `${v.firstInvalidSeq} (${v.reason ?? ''})`) : ''}</table>
<p class="sign">${escapeHtml(T.signature)}: ____________________</p>
</body></html>
`;
}
