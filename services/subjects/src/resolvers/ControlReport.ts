import { kazakhstanToday, parseReportPeriod } from '@pdp/shared';
import type { Deps } from '../config';
import { erasureActsCompleted, rightsRequestCounts } from '../db/report.repository';
import type { ControlReportResolvers } from '../generated/graphql';

/** Subjects' part of the control report (7.2.4): rights requests and their deadlines, completed erasure acts. */
export function controlReportResolvers(deps: Deps): ControlReportResolvers {
  return {
    async __resolveReference(ref, ctx) {
      // Reached by `_entities` too, which the request pipeline does not authorize: the root field's row.
      await deps.guard.authorize(ctx, 'Query.controlReport');
      const period = parseReportPeriod(ref.from, ref.to, ctx.meta.locale);
      const [requests, completed] = await Promise.all([
        rightsRequestCounts(deps.db, period.start, period.end, kazakhstanToday()),
        erasureActsCompleted(deps.db, period.start, period.end),
      ]);
      return { from: ref.from, to: ref.to, rightsRequests: requests.received, rightsRequestsOverdue: requests.overdue, erasureActsCompleted: completed };
    },
  };
}
