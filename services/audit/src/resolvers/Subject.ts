import DataLoader from 'dataloader';
import type { RequestScope } from '@pdp/shared';
import type { Deps } from '../config';
import { searchEntries } from '../db/entries.repository';
import type { AuditEntryRecord } from '../domain/entry';
import type { SubjectResolvers } from '../generated/graphql';

const TRAIL_LIMIT = 1000;

/** `Subject.auditTrail` for every subject of an `_entities` call in one query; the read is itself recorded. */
export function auditTrailLoader(deps: Deps, scope: RequestScope): DataLoader<string, AuditEntryRecord[]> {
  return new DataLoader(async (subjectIds) => {
    await deps.guard.authorize(scope, 'Subject.auditTrail');
    const entries = await searchEntries(deps.db, { subjectIds, limit: TRAIL_LIMIT * subjectIds.length });
    const bySubject = subjectIds.map((id) => entries.filter((e) => e.subjectId === id).slice(0, TRAIL_LIMIT));
    await deps.guard.recordAccess(
      scope,
      subjectIds.map((subjectId, i) => ({ subjectId, resource: 'audit_entry', resourceIds: bySubject[i]!.map((e) => e.seq), fields: [] })),
    );
    return bySubject;
  });
}

export function subjectResolvers(): SubjectResolvers {
  return {
    __resolveReference: (ref) => ({ id: ref.id }),
    auditTrail: (subject, _, ctx) => ctx.auditTrails.load(subject.id),
  };
}
