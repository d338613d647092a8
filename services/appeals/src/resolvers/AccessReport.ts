import type { Deps } from '../config';
import { countAppealsOf } from '../db/lifecycle.repository';
import type { AccessReportResolvers } from '../generated/graphql';

const DATA_ITEMS = ['appeal kind, status and dates', 'phone (encrypted)', 'e-mail (encrypted)', 'description of the situation (encrypted)', 'history of corrected contact data'];

export function accessReportResolvers(deps: Deps): AccessReportResolvers {
  return {
    __resolveReference: (ref) => ({ subjectId: ref.subjectId }),
    async appealsHolding(report, _, ctx) {
      await deps.guard.require(ctx, 'subject.accessReport', ['DPO', 'AUDITOR'], report.subjectId);
      const records = await countAppealsOf(deps.db, report.subjectId);
      await deps.guard.recordAccess(ctx, [{ subjectId: report.subjectId, resource: 'access_report', resourceIds: [report.subjectId], fields: ['appeals'] }]);
      return {
        service: 'appeals',
        dataItems: records > 0 ? DATA_ITEMS : [],
        records,
        processingPeriod: `While the appeal is handled (answer within ${deps.config.extra.answerWorkingDays} working days), then kept until the subject's retention term ends.`,
      };
    },
  };
}
