import type { QueryResolvers } from '../generated/graphql';

export function queryResolvers(): QueryResolvers {
  return {
    appeal: (_, { id }, ctx) => ctx.appeals.load(id),
  };
}
