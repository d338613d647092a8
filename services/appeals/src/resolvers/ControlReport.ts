import { kazakhstanToday, parseReportPeriod } from '@pdp/shared';
import type { Deps } from '../config';
import { appealCounts } from '../db/report.repository';
import { OPEN_STATUSES } from '../domain/appeal';
import type { ControlReportResolvers } from '../generated/graphql';

/** Appeals' part of the control report (7.2.4): appeals and complaints received, and those overdue. */
export function controlReportResolvers(deps: Deps): ControlReportResolvers {
  return {
    async __resolveReference(ref, ctx) {
      // Reached by `_entities` too, which the request pipeline does not authorize: the root field's row.
      await deps.guard.authorize(ctx, 'Query.controlReport');
      const period = parseReportPeriod(ref.from, ref.to, ctx.meta.locale);
      const counts = await appealCounts(deps.db, period.start, period.end, kazakhstanToday(), OPEN_STATUSES);
      return { from: ref.from, to: ref.to, appealsReceived: counts.received, appealsOverdue: counts.overdue };
    },
  };
}
