import { iinSchema, parseInput } from '@pdp/shared';
import { z } from 'zod';
import type { Deps } from '../config';
import { findSubjectIdByBidx } from '../db/subjects.repository';
import { iinBlindIndex } from '../domain/identity';
import type { QueryResolvers } from '../generated/graphql';

export function queryResolvers(deps: Deps): QueryResolvers {
  return {
    subject: (_, { id }, ctx) => ctx.subjects.load(id),
    async subjectByIin(_, args, ctx) {
      const { iin } = parseInput(z.object({ iin: iinSchema }), args, ctx.meta.locale);
      const id = await findSubjectIdByBidx(deps.db, iinBlindIndex(deps.config.blindIndexKey, iin));
      return id ? ctx.subjects.load(id) : null;
    },
  };
}
