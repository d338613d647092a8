import type { Deps } from '../config';
import { countConsentsOf } from '../db/consents.repository';
import type { AccessReportResolvers } from '../generated/graphql';

const DATA_ITEMS = ['consent template, version and language', 'date and channel of consent', 'IP address and browser of the consent (encrypted)'];

export function accessReportResolvers(deps: Deps): AccessReportResolvers {
  return {
    __resolveReference: (ref) => ({ subjectId: ref.subjectId }),
    async consentsHolding(report, _, ctx) {
      await deps.guard.require(ctx, 'subject.accessReport', ['DPO', 'AUDITOR'], report.subjectId);
      const records = await countConsentsOf(deps.db, report.subjectId);
      await deps.guard.recordAccess(ctx, [{ subjectId: report.subjectId, resource: 'access_report', resourceIds: [report.subjectId], fields: ['consents'] }]);
      return {
        service: 'consents',
        dataItems: records > 0 ? DATA_ITEMS : [],
        records,
        processingPeriod: 'For as long as the processing the consent covers lasts, and as evidence of it until the subject\'s data are erased.',
      };
    },
  };
}
