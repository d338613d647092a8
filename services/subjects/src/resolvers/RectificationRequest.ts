import { encodeCursor } from '@pdp/shared';
import type { RectificationRequestResolvers } from '../generated/graphql';

const iso = (d: Date | null) => d?.toISOString() ?? null;

export function rectificationResolvers(): RectificationRequestResolvers {
  return {
    subjectId: (r) => r.subject_id,
    status: (r) => r.status,
    requestedBy: (r) => r.requested_by,
    requestedAt: (r) => r.requested_at.toISOString(),
    reviewedBy: (r) => r.reviewed_by,
    reviewedAt: (r) => iso(r.reviewed_at),
    appliedAt: (r) => iso(r.applied_at),
    cursor: (r) => encodeCursor({ at: r.requested_at.toISOString(), id: r.id }),
  };
}
