import { kazakhstanToday } from '@pdp/shared';
import type { Deps } from '../config';
import { overdueAppeals } from '../db/lifecycle.repository';
import { OPEN_STATUSES, type AppealRecord } from '../domain/appeal';
import type { QueryResolvers } from '../generated/graphql';
import { appealStatus } from '../workflow';

export function queryResolvers(deps: Deps): QueryResolvers {
  return {
    appeal: (_, { id }, ctx) => ctx.appeals.load(id),
    appealStatus: (_, args, ctx) => appealStatus(deps, ctx, args),
    async overdueAppeals(_, { limit }, ctx) {
      await deps.guard.authorize(ctx, 'Query.overdueAppeals');
      const rows = await overdueAppeals(deps.db, kazakhstanToday(), OPEN_STATUSES, Math.min(Math.max(limit ?? 100, 1), 1000));
      // Through the loader, so blocked subjects stay hidden and the read is recorded.
      const loaded = await ctx.appeals.loadMany(rows.map((r) => r.id));
      return loaded.filter((a): a is AppealRecord => a !== null && !(a instanceof Error));
    },
  };
}
