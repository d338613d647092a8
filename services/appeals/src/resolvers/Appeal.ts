import { STAFF_ROLES } from '@pdp/shared';
import type { Deps } from '../config';
import type { AppealResolvers } from '../generated/graphql';

export function appealResolvers(deps: Deps): AppealResolvers {
  return {
    __resolveReference: (ref, ctx) => ctx.appeals.load(ref.id),
    async contact(appeal, _, ctx) {
      // An appeal just submitted by the public is returned without going through the staff loader:
      // its contact data are shown to staff only, and that read is recorded like any other.
      await deps.guard.require(ctx, 'appeal.contact', STAFF_ROLES, appeal.subjectId);
      const loaded = await ctx.appeals.load(appeal.id);
      if (!loaded?.phoneEnc || !loaded.emailEnc || !loaded.descriptionEnc) return null;
      return {
        phone: deps.cipher.decrypt(loaded.phoneEnc),
        email: deps.cipher.decrypt(loaded.emailEnc),
        description: deps.cipher.decrypt(loaded.descriptionEnc),
      };
    },
  };
}
