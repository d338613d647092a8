import { decodeCursor, iinSchema, kazakhstanToday, parseInput } from '@pdp/shared';
import { z } from 'zod';
import type { Deps } from '../config';
import { actsByIds, actsPage } from '../db/erasure.repository';
import { overdueRectifications, rectificationsPage } from '../db/rectification.repository';
import { holdingCounts } from '../db/subjects.repository';
import { findSubjectIdByBidx, loadSubjects } from '../db/subjects.repository';
import { SUBJECTS_DATA_FIELDS, collectionMethods, storagePeriod, subjectsDataItems } from '../domain/access-report';
import { iinBlindIndex } from '../domain/identity';
import type { QueryResolvers } from '../generated/graphql';
import { recordReads } from './reads';

/** What an erasure act tells about its subject (the grounds may name facts about the person). */
const ACT_FIELDS = ['grounds', 'method', 'status'];
const pageSize = (limit: number | null | undefined) => Math.min(Math.max(limit ?? 100, 1), 1000);

export function queryResolvers(deps: Deps): QueryResolvers {
  const { guard } = deps;
  return {
    subject: (_, { id }, ctx) => ctx.subjects.load(id),
    async subjectByIin(_, args, ctx) {
      // Looking a person up by their IIN uses a PD value: not for the CHAIRMAN.
      await guard.authorize(ctx, 'Query.subjectByIin');
      const { iin } = parseInput(z.object({ iin: iinSchema }), args, ctx.meta.locale);
      const id = await findSubjectIdByBidx(deps.db, iinBlindIndex(deps.config.blindIndexKey, iin));
      return id ? ctx.subjects.load(id) : null;
    },
    async accessReport(_, { subjectId }, ctx) {
      // The CHAIRMAN decides erasure acts on it: categories, sources and holdings, no PD values.
      await guard.authorize(ctx, 'Query.accessReport', subjectId);
      const [subject] = await loadSubjects(deps.db, [subjectId]);
      const records = subject ? await holdingCounts(deps.db, subjectId) : 0;
      await guard.recordAccess(ctx, [{ subjectId, resource: 'access_report', resourceIds: [subjectId], fields: SUBJECTS_DATA_FIELDS }]);
      const locale = ctx.meta.locale;
      const period = storagePeriod(deps.config.extra.retentionDays, locale);
      return {
        subjectId,
        held: Boolean(subject && (subject.status === 'ACTIVE' || subject.status === 'BLOCKED')),
        status: subject?.status ?? null,
        categories: subject?.categories ?? [],
        purposes: subject?.purposes ?? [],
        sources: subject?.sources ?? [],
        methods: subject ? collectionMethods(subject, locale) : [],
        storagePeriod: period,
        subjectsHolding: {
          service: 'subjects',
          dataItems: records > 0 ? subjectsDataItems(locale, subject?.categories) : [],
          records,
          processingPeriod: period,
        },
      };
    },
    async erasureAct(_, { id }, ctx) {
      await guard.authorize(ctx, 'Query.erasureAct');
      const [act] = await recordReads(deps, ctx, 'erasure_act', ACT_FIELDS, await actsByIds(deps.db, [id]));
      return act ?? null;
    },
    async erasureActs(_, { status, subjectId, first, after, limit }, ctx) {
      await guard.authorize(ctx, 'Query.erasureActs', subjectId ?? null);
      const cursor = decodeCursor(after, ctx.meta.locale);
      return recordReads(
        deps,
        ctx,
        'erasure_act',
        ACT_FIELDS,
        await actsPage(deps.db, { status: status ?? null, subjectId: subjectId ?? null }, cursor, pageSize(first ?? limit)),
      );
    },
    async rectificationRequests(_, { status, first, after }, ctx) {
      await guard.authorize(ctx, 'Query.rectificationRequests');
      const rows = await rectificationsPage(deps.db, status ?? null, decodeCursor(after, ctx.meta.locale), pageSize(first));
      // The requests name subjects and fields (not the new values): recorded as a read of each.
      const bySubject = new Map<string, string[]>();
      for (const r of rows) bySubject.set(r.subject_id, [...(bySubject.get(r.subject_id) ?? []), r.id]);
      await guard.recordAccess(
        ctx,
        [...bySubject].map(([subjectId, ids]) => ({ subjectId, resource: 'rectification_request', resourceIds: ids, fields: ['field', 'documents'] })),
      );
      return rows;
    },
    async overdueRectifications(_, { limit }, ctx) {
      await guard.authorize(ctx, 'Query.overdueRectifications');
      return recordReads(deps, ctx, 'rectification_request', ['field', 'documents'], await overdueRectifications(deps.db, kazakhstanToday(), pageSize(limit)));
    },
  };
}
