import { parseInput, textSchema } from '@pdp/shared';
import { z } from 'zod';
import type { Deps } from '../config';
import { evidenceOf } from '../evidence';
import type { MutationResolvers } from '../generated/graphql';
import { breachInput, breachReportInput } from '../domain/breach';
import { changeIncident, reportBreach } from '../incidents.service';

export function mutationResolvers(deps: Deps): MutationResolvers {
  return {
    async acknowledgeIncident(_, { id }, ctx) {
      return changeIncident(deps, ctx, id, 'acknowledge');
    },
    async reportIncident(_, args, ctx) {
      const { reference, details } = parseInput(z.object({ reference: textSchema(1, 200), details: breachReportInput }), args, ctx.meta.locale);
      return changeIncident(deps, ctx, args.id, 'report', { reference, report: details });
    },
    async reportBreach(_, { input }, ctx) {
      const parsed = parseInput(breachInput, input, ctx.meta.locale);
      return reportBreach(deps, ctx, { ...parsed, affectedSubjects: parsed.affectedSubjects ?? null, categories: parsed.categories ?? null });
    },
    async closeIncident(_, args, ctx) {
      const { note } = parseInput(z.object({ note: textSchema(3, 2000) }), args, ctx.meta.locale);
      return changeIncident(deps, ctx, args.id, 'close', { note });
    },
    async checkpointAudit(_, __, ctx) {
      return evidenceOf(deps).checkpointForExport(ctx.meta.locale);
    },
  };
}
