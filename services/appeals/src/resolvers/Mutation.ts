import type { Deps } from '../config';
import type { MutationResolvers } from '../generated/graphql';
import { submitAppeal } from '../intake';
import { changeAppealStatus } from '../workflow';

export function mutationResolvers(deps: Deps): MutationResolvers {
  return {
    submitAppeal: async (_, { input }, ctx) => ({ appeal: await submitAppeal(deps, ctx, { ...input }) }),
    async changeAppealStatus(_, { appealId, status }, ctx) {
      await deps.guard.require(ctx, 'appeal.changeStatus', ['OPERATOR', 'DPO']);
      await changeAppealStatus(deps, ctx, appealId, status);
      return (await ctx.appeals.load(appealId))!;
    },
  };
}
