import type { Locale } from '@pdp/shared';
import type { Deps } from '../config';
import { countAppealsOf } from '../db/lifecycle.repository';
import type { AccessReportResolvers } from '../generated/graphql';

/** What appeals holds, as the person reads it in the access report (6.1.1). */
const DATA_ITEMS: Record<Locale, string[]> = {
  KK: [
    'өтініштің түрі, мәртебесі және күндері',
    'телефон (шифрланған)',
    'электрондық пошта (шифрланған)',
    'жағдайдың сипаттамасы (шифрланған)',
    'түзетілген байланыс деректерінің тарихы',
    'өтініш тарихы және қызметкерлердің жазбалары (шифрланған)',
  ],
  RU: [
    'вид, статус и даты обращения',
    'телефон (в зашифрованном виде)',
    'адрес электронной почты (в зашифрованном виде)',
    'описание ситуации (в зашифрованном виде)',
    'история исправленных контактных данных',
    'история обращения и заметки сотрудников (в зашифрованном виде)',
  ],
};

function processingPeriod(workingDays: number, locale: Locale): string {
  return locale === 'KK'
    ? `Өтініш қаралып жатқанда (жауап ${workingDays} жұмыс күні ішінде беріледі), содан кейін субъектінің деректерін сақтау мерзімі аяқталғанға дейін сақталады.`
    : `Пока обращение рассматривается (ответ в течение ${workingDays} рабочих дней), затем хранится до окончания срока хранения данных субъекта.`;
}

export function accessReportResolvers(deps: Deps): AccessReportResolvers {
  return {
    __resolveReference: (ref) => ({ subjectId: ref.subjectId }),
    async appealsHolding(report, _, ctx) {
      // An entity field (the report is resolved here by `_entities`): the root field's row.
      await deps.guard.authorize(ctx, 'Query.accessReport', report.subjectId);
      const records = await countAppealsOf(deps.db, report.subjectId);
      await deps.guard.recordAccess(ctx, [{ subjectId: report.subjectId, resource: 'access_report', resourceIds: [report.subjectId], fields: ['appeals'] }]);
      return {
        service: 'appeals',
        dataItems: records > 0 ? DATA_ITEMS[ctx.meta.locale] : [],
        records,
        processingPeriod: processingPeriod(deps.config.extra.answerWorkingDays, ctx.meta.locale),
      };
    },
  };
}
