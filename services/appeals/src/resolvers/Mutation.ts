import type { Deps } from '../config';
import type { MutationResolvers } from '../generated/graphql';
import { registerAppeal, submitAppeal } from '../intake';
import { changeAppealStatus, commentAppeal } from '../workflow';

export function mutationResolvers(deps: Deps): MutationResolvers {
  return {
    submitAppeal: async (_, { input }, ctx) => ({ appeal: await submitAppeal(deps, ctx, { ...input }) }),
    registerAppeal: async (_, { input }, ctx) => registerAppeal(deps, ctx, { ...input }),
    async changeAppealStatus(_, { appealId, status }, ctx) {
      await deps.guard.authorize(ctx, 'Mutation.changeAppealStatus');
      await changeAppealStatus(deps, ctx, appealId, status);
      return (await ctx.appeals.load(appealId))!;
    },
    async commentAppeal(_, { appealId, note }, ctx) {
      await deps.guard.authorize(ctx, 'Mutation.commentAppeal');
      await commentAppeal(deps, ctx, appealId, note);
      return (await ctx.appeals.load(appealId))!;
    },
  };
}
