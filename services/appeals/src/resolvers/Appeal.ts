import type { Deps } from '../config';
import type { AppealResolvers } from '../generated/graphql';

export function appealResolvers(deps: Deps): AppealResolvers {
  return {
    __resolveReference: (ref, ctx) => ctx.appeals.load(ref.id),
    async contact(appeal, _, ctx) {
      // An appeal just submitted by the public is returned without going through the staff loader:
      // its contact data are shown to staff only, and that read is recorded like any other.
      await deps.guard.authorize(ctx, 'Appeal.pd', appeal.subjectId);
      const loaded = await ctx.appeals.load(appeal.id);
      if (!loaded?.descriptionEnc) return null;
      return {
        phone: loaded.phoneEnc ? deps.cipher.decrypt(loaded.phoneEnc, { table: 'appeals', column: 'phone_enc', id: loaded.id }) : null,
        email: loaded.emailEnc ? deps.cipher.decrypt(loaded.emailEnc, { table: 'appeals', column: 'email_enc', id: loaded.id }) : null,
        description: deps.cipher.decrypt(loaded.descriptionEnc, { table: 'appeals', column: 'description_enc', id: loaded.id }),
      };
    },
    channel: (appeal) => appeal.channel,
    assignee: (appeal) => appeal.assignee,
    forwardedFields: (appeal) => appeal.forwardedFields,
    async forwardedTo(appeal, _, ctx) {
      return appeal.forwardedTo ? ctx.creditors.load(appeal.forwardedTo) : null;
    },
    async answer(appeal, _, ctx) {
      await deps.guard.authorize(ctx, 'Appeal.pd', appeal.subjectId);
      const loaded = await ctx.appeals.load(appeal.id);
      if (!loaded?.answerEnc) return null;
      await deps.guard.recordAccess(ctx, [{ subjectId: appeal.subjectId, resource: 'appeal', resourceIds: [appeal.id], fields: ['answer'] }]);
      return deps.cipher.decrypt(loaded.answerEnc, { table: 'appeals', column: 'answer_enc', id: loaded.id });
    },
    async partnerResponse(appeal, _, ctx) {
      await deps.guard.authorize(ctx, 'Appeal.pd', appeal.subjectId);
      const loaded = await ctx.appeals.load(appeal.id);
      if (!loaded?.partnerResponseEnc) return null;
      await deps.guard.recordAccess(ctx, [{ subjectId: appeal.subjectId, resource: 'appeal', resourceIds: [appeal.id], fields: ['partnerResponse'] }]);
      return deps.cipher.decrypt(loaded.partnerResponseEnc, { table: 'appeals', column: 'partner_response_enc', id: loaded.id });
    },
    async subject(appeal, _, ctx) {
      // Only the reference leaves appeals; subjects resolves (and checks, and records) the rest.
      await deps.guard.authorize(ctx, 'Query.appeal', appeal.subjectId);
      return appeal.subjectId ? { id: appeal.subjectId } : null;
    },
    async history(appeal, _, ctx) {
      const changes = await ctx.appealHistory.load(appeal);
      return changes.map((c) => ({
        status: c.status,
        at: c.at,
        by: c.by,
        note: c.noteEnc ? deps.cipher.decrypt(c.noteEnc, { table: 'appeal_changes', column: 'note_enc', id: c.id }) : null,
      }));
    },
  };
}
