import { parseReportPeriod } from '@pdp/shared';
import type { Deps } from '../config';
import { withdrawalsBetween } from '../db/report.repository';
import type { ControlReportResolvers } from '../generated/graphql';

/** Consents' part of the control report (7.2.4): withdrawals in the period. */
export function controlReportResolvers(deps: Deps): ControlReportResolvers {
  return {
    async __resolveReference(ref, ctx) {
      // Reached by `_entities` too, which the request pipeline does not authorize: the root field's row.
      await deps.guard.authorize(ctx, 'Query.controlReport');
      const period = parseReportPeriod(ref.from, ref.to, ctx.meta.locale);
      return { from: ref.from, to: ref.to, consentWithdrawals: await withdrawalsBetween(deps.db, period.start, period.end) };
    },
  };
}
