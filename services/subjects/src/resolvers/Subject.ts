import type { Deps } from '../config';
import type { SubjectResolvers } from '../generated/graphql';

export function subjectResolvers(deps: Deps): SubjectResolvers {
  return {
    __resolveReference: (ref, ctx) => ctx.subjects.load(ref.id),
    async iin(subject, _, ctx) {
      // The CHAIRMAN sees status, categories and holdings — never a PD value.
      await deps.guard.authorize(ctx, 'Subject.pd', subject.id);
      return subject.iinEncrypted ? deps.cipher.decrypt(subject.iinEncrypted) : null;
    },
    async blockReceipts(subject, _, ctx) {
      const rows = await ctx.blockReceipts.load(subject.id);
      return rows.map((r) => ({ service: r.service, blocked: r.blocked, appliedAt: r.applied_at.toISOString() }));
    },
    erasureActs: (subject, _, ctx) => ctx.erasureActs.load(subject.id),
    rectifications: (subject, _, ctx) => ctx.rectifications.load(subject.id),
    async blocks(subject, _, ctx) {
      await deps.guard.authorize(ctx, 'Subject.blocks', subject.id);
      const rows = await ctx.blocks.load(subject.id);
      return rows.map((b) => ({
        blockedAt: b.blocked_at.toISOString(),
        blockedBy: b.blocked_by,
        reason: b.reason,
        unblockedAt: b.unblocked_at?.toISOString() ?? null,
        unblockedBy: b.unblocked_by,
        unblockReason: b.unblock_reason,
      }));
    },
  };
}
