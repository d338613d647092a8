import { parseInput, textSchema } from '@pdp/shared';
import { z } from 'zod';
import type { Deps } from '../config';
import { evidenceOf } from '../evidence';
import type { MutationResolvers } from '../generated/graphql';
import { changeIncident } from '../incidents.service';

export function mutationResolvers(deps: Deps): MutationResolvers {
  const { guard } = deps;
  return {
    async acknowledgeIncident(_, { id }, ctx) {
      await guard.authorize(ctx, 'Mutation.acknowledgeIncident');
      return changeIncident(deps, ctx, id, 'acknowledge');
    },
    async reportIncident(_, args, ctx) {
      await guard.authorize(ctx, 'Mutation.reportIncident');
      const { reference } = parseInput(z.object({ reference: textSchema(1, 200) }), args, ctx.meta.locale);
      return changeIncident(deps, ctx, args.id, 'report', { reference });
    },
    async closeIncident(_, args, ctx) {
      await guard.authorize(ctx, 'Mutation.closeIncident');
      const { note } = parseInput(z.object({ note: textSchema(3, 2000) }), args, ctx.meta.locale);
      return changeIncident(deps, ctx, args.id, 'close', { note });
    },
    async checkpointAudit(_, __, ctx) {
      await guard.authorize(ctx, 'Mutation.checkpointAudit');
      return evidenceOf(deps).checkpointForExport(ctx.meta.locale);
    },
  };
}
