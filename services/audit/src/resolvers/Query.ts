import type { Deps } from '../config';
import { listEntries, listIncidents, verifyChain } from '../db/audit.repository';
import type { QueryResolvers } from '../generated/graphql';

const READERS = ['AUDITOR', 'DPO'] as const;
const MAX_PAGE = 1000;

export function queryResolvers(deps: Deps): QueryResolvers {
  return {
    async auditLog(_, args, ctx) {
      await deps.guard.require(ctx, 'audit.read', READERS);
      const limit = Math.min(Math.max(args.limit ?? 100, 1), MAX_PAGE);
      return listEntries(deps.db, { subjectIds: args.subjectId ? [args.subjectId] : undefined, afterSeq: args.afterSeq ?? null, limit });
    },
    async verifyAuditChain(_, __, ctx) {
      await deps.guard.require(ctx, 'audit.verify', ['AUDITOR']);
      return verifyChain(deps.db);
    },
    async incidents(_, args, ctx) {
      await deps.guard.require(ctx, 'audit.incidents', READERS);
      const rows = await listIncidents(deps.db, Math.min(Math.max(args.limit ?? 100, 1), MAX_PAGE));
      return rows.map((r) => ({ id: r.id, rule: r.rule, actorId: r.actor_id, detectedAt: r.detected_at.toISOString(), details: JSON.stringify(r.details) }));
    },
  };
}
