import { decodeCursor, heldRow, iinSchema, kazakhstanToday, parseInput } from '@pdp/shared';
import { z } from 'zod';
import type { Deps } from '../config';
import { actsByIds, actsPage } from '../db/erasure.repository';
import { overdueRectifications, rectificationsPage } from '../db/rectification.repository';
import { holdingCounts } from '../db/subjects.repository';
import { findSubjectIdByBidx, loadSubjects } from '../db/subjects.repository';
import { SUBJECTS_DATA_FIELDS, collectionMethods, subjectsDataItems } from '../domain/access-report';
import { iinBlindIndex } from '../domain/identity';
import { storagePeriodOf } from '../domain/retention';
import type { QueryResolvers } from '../generated/graphql';

/** What an erasure act tells about its subject (the grounds may name facts about the person). */
const ACT_FIELDS = ['grounds', 'method', 'status'];
/** What a rectification request tells: the field and the documents, not the new value. */
const RECTIFICATION_READ = { resource: 'rectification_request', fields: ['field', 'documents'] };

export function queryResolvers(deps: Deps): QueryResolvers {
  const { guard } = deps;
  return {
    subject: (_, { id }, ctx) => ctx.subjects.load(id),
    async subjectByIin(_, args, ctx) {
      // Looking a person up by their IIN uses a PD value: not for the CHAIRMAN.
      const { iin } = parseInput(z.object({ iin: iinSchema }), args, ctx.meta.locale);
      const id = await findSubjectIdByBidx(deps.db, iinBlindIndex(deps.config.blindIndexKey, iin));
      return id ? ctx.subjects.load(id) : null;
    },
    async accessReport(_, { subjectId }, ctx) {
      // The CHAIRMAN decides erasure acts on it: categories, sources and holdings, no PD values.
      const [subject] = await loadSubjects(deps.db, [subjectId]);
      const records = subject ? await holdingCounts(deps.db, subjectId) : 0;
      await guard.recordAccess(ctx, [{ subjectId, resource: 'access_report', resourceIds: [subjectId], fields: SUBJECTS_DATA_FIELDS }]);
      const locale = ctx.meta.locale;
      const period = storagePeriodOf(deps.config.extra.retentionRules, subject?.categories ?? [], locale);
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
    async retentionRules(_, __, ctx) {
      await guard.authorize(ctx, 'Query.retentionRules');
      return deps.config.extra.retentionRules.map((r) => ({ ...r, basis: r.basis[ctx.meta.locale] }));
    },
    async erasureAct(_, { id }, ctx) {
      const [act] = await guard.recordReads(ctx, { resource: 'erasure_act', fields: ACT_FIELDS }, await actsByIds(deps.db, [id]), heldRow);
      return act ?? null;
    },
    async erasureActs(_, { status, subjectId, first, after, limit }, ctx) {
      const cursor = decodeCursor(after, ctx.meta.locale);
      const rows = await actsPage(deps.db, { status: status ?? null, subjectId: subjectId ?? null }, cursor, first ?? limit);
      return guard.recordReads(ctx, { resource: 'erasure_act', fields: ACT_FIELDS }, rows, heldRow);
    },
    async rectificationRequests(_, { status, first, after }, ctx) {
      const rows = await rectificationsPage(deps.db, status ?? null, decodeCursor(after, ctx.meta.locale), first);
      // The requests name subjects and fields (not the new values): recorded as a read of each.
      return guard.recordReads(ctx, RECTIFICATION_READ, rows, heldRow);
    },
    async overdueRectifications(_, { limit }, ctx) {
      return guard.recordReads(ctx, RECTIFICATION_READ, await overdueRectifications(deps.db, kazakhstanToday(), limit), heldRow);
    },
  };
}
