import { selectedPaths } from '@pdp/shared';
import type { Deps } from '../config';
import type { MutationResolvers } from '../generated/graphql';
import { registerAppeal, submitAppeal } from '../intake.service';
import { changeAppealStatus, commentAppeal } from '../workflow.service';
import { answerAppeal, assignAppeal, forwardAppeal, registerCreditor, respondToAppeal } from '../worklist.service';

export function mutationResolvers(deps: Deps): MutationResolvers {
  return {
    submitAppeal: async (_, { input }, ctx, info) => ({ appeal: await submitAppeal(deps, ctx, { ...input }, selectedPaths(info)) }),
    registerAppeal: async (_, { input }, ctx) => registerAppeal(deps, ctx, { ...input }),
    async changeAppealStatus(_, { appealId, status }, ctx) {
      await deps.guard.authorize(ctx, 'Mutation.changeAppealStatus');
      await changeAppealStatus(deps, ctx, appealId, status);
      return (await ctx.appeals.load(appealId))!;
    },
    async assignAppeal(_, { appealId, assignee }, ctx) {
      await assignAppeal(deps, ctx, appealId, assignee);
      return (await ctx.appeals.load(appealId))!;
    },
    async answerAppeal(_, { appealId, answer }, ctx) {
      await answerAppeal(deps, ctx, appealId, answer);
      return (await ctx.appeals.load(appealId))!;
    },
    registerCreditor: (_, { input }, ctx) => registerCreditor(deps, ctx, { ...input }),
    async forwardAppeal(_, { appealId, creditorId, fields }, ctx) {
      await forwardAppeal(deps, ctx, appealId, creditorId, fields);
      return (await ctx.appeals.load(appealId))!;
    },
    respondToAppeal: (_, { appealId, response }, ctx) => respondToAppeal(deps, ctx, appealId, response),
    async commentAppeal(_, { appealId, note }, ctx) {
      await deps.guard.authorize(ctx, 'Mutation.commentAppeal');
      await commentAppeal(deps, ctx, appealId, note);
      return (await ctx.appeals.load(appealId))!;
    },
  };
}
