import { NotFoundError } from '@pdp/shared';
import type { Context } from '../context';
import type { Deps } from '../config';
import type { ConsentRecord } from '../domain/consent';
import type { MutationResolvers } from '../generated/graphql';
import { setPublicationConsent } from '../publication.service';
import { publishTemplate } from '../templates.service';
import { fulfilObligation, withdrawConsent } from '../withdrawal.service';

/** A consent just changed, read back like any other read (recorded, within the caller's categories). */
async function loadConsent(ctx: Context, id: string): Promise<ConsentRecord> {
  const consent = await ctx.consents.load(id);
  if (!consent) throw new NotFoundError(ctx.meta.locale, 'Consent');
  return consent;
}

export function mutationResolvers(deps: Deps): MutationResolvers {
  const { guard } = deps;
  return {
    async publishConsentTemplate(_, args, ctx) {
      await guard.authorize(ctx, 'Mutation.publishConsentTemplate');
      return publishTemplate(deps, ctx, args);
    },
    async fulfilObligation(_, { obligationId }, ctx) {
      await guard.authorize(ctx, 'Mutation.fulfilObligation');
      const { obligation, subjectId } = await fulfilObligation(deps, ctx, obligationId);
      await guard.recordAccess(ctx, [{ subjectId, resource: 'obligation', resourceIds: [obligation.id], fields: ['description', 'dueDate', 'fulfilledAt'] }]);
      return obligation;
    },
    async withdrawConsent(_, { consentId, reason }, ctx) {
      await guard.authorize(ctx, 'Mutation.withdrawConsent');
      await withdrawConsent(deps, ctx, consentId, reason);
      return loadConsent(ctx, consentId);
    },
    async setPublicationConsent(_, { subjectId, granted, locale }, ctx) {
      await guard.authorize(ctx, 'Mutation.setPublicationConsent', subjectId);
      return loadConsent(ctx, await setPublicationConsent(deps, ctx, subjectId, granted, locale));
    },
  };
}
