import type { Locale } from '@pdp/shared';
import type { Deps } from '../config';
import { countConsentsOf, publicationDecisions, toRecord } from '../db/consents.repository';
import type { AccessReportResolvers } from '../generated/graphql';
import { publicationOf } from './publication';

/** What consents holds, as the person reads it in the access report (6.1.1). */
const DATA_ITEMS: Record<Locale, string[]> = {
  KK: [
    'келісім мәтіні, оның нұсқасы және тілі',
    'келісім берілген күн және арна',
    'келісімнің дәлелі: IP мекенжайы мен браузер немесе қол қойылған құжаттың деректемелері (шифрланған)',
    'шарт бойынша міндеттемелер және олардың орындалуы (шифрланған)',
    'жалпыға қолжетімді көздерде таратуға келісім немесе бас тарту',
    'келісімнің кері қайтарылуы және оны әр қызметтің растауы',
  ],
  RU: [
    'текст согласия, его версия и язык',
    'дата и канал дачи согласия',
    'подтверждение согласия: IP-адрес и браузер или реквизиты подписанного документа (в зашифрованном виде)',
    'обязательства по договору и их исполнение (в зашифрованном виде)',
    'согласие или отказ от распространения в общедоступных источниках',
    'отзыв согласия и его подтверждение каждой службой',
  ],
};

const PROCESSING_PERIOD: Record<Locale, string> = {
  KK: 'Келісім қамтитын өңдеу жалғасқанша, содан кейін субъектінің деректері жойылғанға дейін оның дәлелі ретінде сақталады.',
  RU: 'Пока длится обработка, на которую дано согласие, затем хранится как её подтверждение до уничтожения данных субъекта.',
};

export function accessReportResolvers(deps: Deps): AccessReportResolvers {
  return {
    __resolveReference: (ref) => ({ subjectId: ref.subjectId }),
    async consentsHolding(report, _, ctx) {
      // An entity field (the report is resolved here by `_entities`): the root field's row.
      await deps.guard.authorize(ctx, 'Query.accessReport', report.subjectId);
      const records = await countConsentsOf(deps.db, report.subjectId);
      await deps.guard.recordAccess(ctx, [{ subjectId: report.subjectId, resource: 'access_report', resourceIds: [report.subjectId], fields: ['consents'] }]);
      return {
        service: 'consents',
        dataItems: records > 0 ? DATA_ITEMS[ctx.meta.locale] : [],
        records,
        processingPeriod: PROCESSING_PERIOD[ctx.meta.locale],
      };
    },
    async publicationConsent(report, _, ctx) {
      // A decision, not a PD value: the CHAIRMAN reads it with the rest of the report.
      await deps.guard.authorize(ctx, 'Query.accessReport', report.subjectId);
      const decisions = (await publicationDecisions(deps.db, [report.subjectId])).map(toRecord);
      await deps.guard.recordAccess(ctx, [
        { subjectId: report.subjectId, resource: 'access_report', resourceIds: [report.subjectId], fields: ['publicationConsent'] },
      ]);
      return publicationOf(decisions);
    },
  };
}
