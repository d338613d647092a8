import { iinSchema, kazakhstanToday, parseInput } from '@pdp/shared';
import { z } from 'zod';
import type { Deps } from '../config';
import { actsByIds, actsByStatus, holdingCounts, overdueRectifications } from '../db/lifecycle.repository';
import { findSubjectIdByBidx, loadSubjects } from '../db/subjects.repository';
import { SUBJECTS_DATA_ITEMS, collectionMethods, storagePeriod } from '../domain/access-report';
import { iinBlindIndex } from '../domain/identity';
import type { QueryResolvers } from '../generated/graphql';

const ACT_READERS = ['DPO', 'CHAIRMAN', 'AUDITOR'] as const;
const pageSize = (limit: number | null | undefined) => Math.min(Math.max(limit ?? 100, 1), 1000);

export function queryResolvers(deps: Deps): QueryResolvers {
  const { guard } = deps;
  return {
    subject: (_, { id }, ctx) => ctx.subjects.load(id),
    async subjectByIin(_, args, ctx) {
      const { iin } = parseInput(z.object({ iin: iinSchema }), args, ctx.meta.locale);
      const id = await findSubjectIdByBidx(deps.db, iinBlindIndex(deps.config.blindIndexKey, iin));
      return id ? ctx.subjects.load(id) : null;
    },
    async accessReport(_, { subjectId }, ctx) {
      await guard.require(ctx, 'subject.accessReport', ['DPO', 'AUDITOR'], subjectId);
      const [subject] = await loadSubjects(deps.db, [subjectId]);
      const records = subject ? await holdingCounts(deps.db, subjectId) : 0;
      await guard.recordAccess(ctx, [{ subjectId, resource: 'access_report', resourceIds: [subjectId], fields: SUBJECTS_DATA_ITEMS }]);
      const period = storagePeriod(deps.config.extra.retentionDays);
      return {
        subjectId,
        held: Boolean(subject && (subject.status === 'ACTIVE' || subject.status === 'BLOCKED')),
        status: subject?.status ?? null,
        categories: subject?.categories ?? [],
        purposes: subject?.purposes ?? [],
        sources: subject?.sources ?? [],
        methods: subject ? collectionMethods(subject) : [],
        storagePeriod: period,
        subjectsHolding: { service: 'subjects', dataItems: records > 0 ? SUBJECTS_DATA_ITEMS : [], records, processingPeriod: period },
      };
    },
    async erasureAct(_, { id }, ctx) {
      await guard.require(ctx, 'erasure.read', ACT_READERS);
      const [act] = await actsByIds(deps.db, [id]);
      return act ?? null;
    },
    async erasureActs(_, { status, limit }, ctx) {
      await guard.require(ctx, 'erasure.list', ACT_READERS);
      return actsByStatus(deps.db, status ?? null, pageSize(limit));
    },
    async overdueRectifications(_, { limit }, ctx) {
      await guard.require(ctx, 'rectification.overdue', ['DPO']);
      return overdueRectifications(deps.db, kazakhstanToday(), pageSize(limit));
    },
  };
}
