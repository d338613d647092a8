import DataLoader from 'dataloader';
import type { RequestScope } from '@pdp/shared';
import type { Deps } from '../config';
import { listEntries } from '../db/audit.repository';
import type { AuditEntryRecord } from '../domain/entry';
import type { SubjectResolvers } from '../generated/graphql';

const TRAIL_LIMIT = 1000;

/** `Subject.auditTrail` for every subject of an `_entities` call in one query. */
export function auditTrailLoader(deps: Deps, scope: RequestScope): DataLoader<string, AuditEntryRecord[]> {
  return new DataLoader(async (subjectIds) => {
    await deps.guard.require(scope, 'audit.trail', ['AUDITOR', 'DPO']);
    const entries = await listEntries(deps.db, { subjectIds, limit: TRAIL_LIMIT * subjectIds.length });
    return subjectIds.map((id) => entries.filter((e) => e.subjectId === id));
  });
}

export function subjectResolvers(): SubjectResolvers {
  return {
    __resolveReference: (ref) => ({ id: ref.id }),
    auditTrail: (subject, _, ctx) => ctx.auditTrails.load(subject.id),
  };
}
