import { encodeCursor } from '@pdp/shared';
import type { ErasureActResolvers } from '../generated/graphql';

const iso = (d: Date | null) => d?.toISOString() ?? null;

export function erasureActResolvers(): ErasureActResolvers {
  return {
    subjectId: (a) => a.subject_id,
    method: (a) => a.method,
    status: (a) => a.status,
    proposedBy: (a) => a.proposed_by,
    proposedAt: (a) => a.proposed_at.toISOString(),
    decidedBy: (a) => a.decided_by,
    decidedAt: (a) => iso(a.decided_at),
    completedAt: (a) => iso(a.completed_at),
    decisionNote: (a) => a.decision_note,
    cursor: (a) => encodeCursor({ at: a.proposed_at.toISOString(), id: a.id }),
    async receipts(a, _, ctx) {
      const got = await ctx.actReceipts.load(a.id);
      // Every expected holder appears; completedAt stays null until its receipt arrives.
      return a.services.map((service) => ({ service, completedAt: iso(got.find((r) => r.service === service)?.completed_at ?? null) }));
    },
  };
}
