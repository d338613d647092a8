import type { Deps } from '../config';
import type { MutationResolvers } from '../generated/graphql';
import { setSubjectBlocked } from '../blocking.service';
import { decideErasure, proposeErasure } from '../erasure.service';
import { requestRectification, reviewRectification } from '../rectification.service';
import { endEmployment, registerCounterparty, registerEmployee } from '../registration.service';
import { loadAct, loadRectification, loadSubject } from './lookups';

export function mutationResolvers(deps: Deps): MutationResolvers {
  const { guard } = deps;
  return {
    async blockSubject(_, { subjectId, reason }, ctx) {
      await guard.authorize(ctx, 'Mutation.blockSubject', subjectId);
      await setSubjectBlocked(deps, ctx, subjectId, reason, true);
      return (await ctx.subjects.load(subjectId))!;
    },
    async unblockSubject(_, { subjectId, reason }, ctx) {
      await guard.authorize(ctx, 'Mutation.unblockSubject', subjectId);
      await setSubjectBlocked(deps, ctx, subjectId, reason, false);
      return (await ctx.subjects.load(subjectId))!;
    },
    async proposeErasure(_, { subjectId, method, grounds }, ctx) {
      await guard.authorize(ctx, 'Mutation.proposeErasure', subjectId);
      return loadAct(deps, ctx, await proposeErasure(deps, ctx, subjectId, method, grounds));
    },
    async approveErasure(_, { actId, note }, ctx) {
      await guard.authorize(ctx, 'Mutation.approveErasure');
      await decideErasure(deps, ctx, actId, true, note ?? null);
      return loadAct(deps, ctx, actId);
    },
    async rejectErasure(_, { actId, note }, ctx) {
      await guard.authorize(ctx, 'Mutation.rejectErasure');
      await decideErasure(deps, ctx, actId, false, note ?? null);
      return loadAct(deps, ctx, actId);
    },
    async requestRectification(_, { input }, ctx) {
      await guard.authorize(ctx, 'Mutation.requestRectification', input.subjectId);
      return loadRectification(deps, ctx, await requestRectification(deps, ctx, { ...input, documents: [...input.documents] }));
    },
    async reviewRectification(_, { requestId, approve, note }, ctx) {
      await guard.authorize(ctx, 'Mutation.reviewRectification');
      await reviewRectification(deps, ctx, requestId, approve, note ?? null);
      return loadRectification(deps, ctx, requestId);
    },
    async registerEmployee(_, { input }, ctx) {
      await guard.authorize(ctx, 'Mutation.registerEmployee');
      return loadSubject(ctx, await registerEmployee(deps, ctx, input));
    },
    async endEmployment(_, { subjectId, endedOn }, ctx) {
      await guard.authorize(ctx, 'Mutation.endEmployment', subjectId);
      await endEmployment(deps, ctx, subjectId, endedOn);
      return loadSubject(ctx, subjectId);
    },
    async registerCounterparty(_, { input }, ctx) {
      await guard.authorize(ctx, 'Mutation.registerCounterparty');
      return loadSubject(ctx, await registerCounterparty(deps, ctx, { ...input, obligations: [...input.obligations] }));
    },
  };
}
