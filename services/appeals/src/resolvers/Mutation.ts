import type { Deps } from '../config';
import type { MutationResolvers } from '../generated/graphql';
import { submitAppeal } from '../intake';

export function mutationResolvers(deps: Deps): MutationResolvers {
  return {
    submitAppeal: async (_, { input }, ctx) => ({ appeal: await submitAppeal(deps, ctx, { ...input }) }),
  };
}
