import { ForbiddenError, kazakhstanToday, parseInput, selects } from '@pdp/shared';
import { z } from 'zod';
import type { Deps } from '../config';
import { appealsByIds } from '../db/appeals.repository';
import { overdueAppeals } from '../db/lifecycle.repository';
import { OPEN_STATUSES, type AppealRecord } from '../domain/appeal';
import type { QueryResolvers } from '../generated/graphql';
import { appealStatus } from '../workflow.service';
import { listCreditors } from '../db/worklist.repository';
import { partnerAppeals, worklist } from '../worklist.service';
import { wantsTotal } from './Worklist';

/** A year the calendar answers for: the holidays law's time and the package's horizon. */
const calendarArgs = z.object({ year: z.number().int().min(2000, { message: 'year.invalid' }).max(2100, { message: 'year.invalid' }) });

export function queryResolvers(deps: Deps): QueryResolvers {
  return {
    async appeal(_, { id }, ctx) {
      const appeal = await ctx.appeals.load(id);
      if (appeal) return appeal;
      // Withheld (a blocked subject, a category outside the role's purpose; the loader recorded the
      // denial) is FORBIDDEN, as subject(id) is; only an appeal that does not exist is null.
      if ((await appealsByIds(deps.db, [id])).length > 0) throw new ForbiddenError(ctx.meta.locale);
      return null;
    },
    appealStatus: (_, args, ctx) => appealStatus(deps, ctx, args),
    async appeals(_, args, ctx, info) {
      // The page's rows serve every field below it (no second query for contact or history), so the
      // page's access records name the contact data when the query reads them.
      const page = await worklist(deps, ctx, args, { withTotal: wantsTotal(info), withContact: selects(info, ['edges', 'node', 'contact']) });
      for (const node of page.nodes) ctx.appeals.prime(node.id, node);
      return page;
    },
    async creditors(_, __, ctx) {
      await deps.guard.authorize(ctx, 'Query.creditors');
      return listCreditors(deps.db, 1000);
    },
    workingCalendar(_, { year }, ctx) {
      const valid = parseInput(calendarArgs, { year }, ctx.meta.locale);
      return deps.config.extra.calendar.nonWorkingDays(valid.year);
    },
    partnerAppeals: (_, args, ctx, info) => partnerAppeals(deps, ctx, args, wantsTotal(info)),
    async overdueAppeals(_, { limit }, ctx) {
      await deps.guard.authorize(ctx, 'Query.overdueAppeals');
      const rows = await overdueAppeals(deps.db, kazakhstanToday(), OPEN_STATUSES, Math.min(Math.max(limit ?? 100, 1), 1000));
      // Through the loader, so blocked subjects stay hidden and the read is recorded.
      const loaded = await ctx.appeals.loadMany(rows.map((r) => r.id));
      return loaded.filter((a): a is AppealRecord => a !== null && !(a instanceof Error));
    },
  };
}
