import { STAFF_ROLES, type RequestScope } from '@pdp/shared';
import DataLoader from 'dataloader';
import type { Deps } from '../config';
import { appealsByIds, appealsBySubjects } from '../db/appeals.repository';
import type { AppealRecord } from '../domain/appeal';

/** Personal data an appeal holds, as listed in access records. */
const APPEAL_PD_FIELDS = ['phone', 'email', 'description'];

async function requireStaff(deps: Deps, scope: RequestScope, operation: string): Promise<void> {
  await deps.guard.require(scope, operation, STAFF_ROLES);
}

/** Records one access per subject whose appeals a batch returns, before they leave the service. */
async function recordReads(deps: Deps, scope: RequestScope, appeals: AppealRecord[]): Promise<void> {
  const bySubject = new Map<string | null, string[]>();
  for (const a of appeals) bySubject.set(a.subjectId, [...(bySubject.get(a.subjectId) ?? []), a.id]);
  await deps.guard.recordAccess(
    scope,
    [...bySubject].map(([subjectId, ids]) => ({ subjectId, resource: 'appeal', resourceIds: ids, fields: APPEAL_PD_FIELDS })),
  );
}

/** Staff reads of appeals by id: one query per batch (e.g. an `_entities` call). */
export function appealLoader(deps: Deps, scope: RequestScope): DataLoader<string, AppealRecord | null> {
  return new DataLoader(async (ids) => {
    await requireStaff(deps, scope, 'appeal.read');
    const found = await appealsByIds(deps.db, ids);
    await recordReads(deps, scope, found);
    const byId = new Map(found.map((a) => [a.id, a]));
    return ids.map((id) => byId.get(id) ?? null);
  });
}

/** `Subject.appeals` for every subject of an `_entities` call in one query. */
export function appealsOfSubjectLoader(deps: Deps, scope: RequestScope): DataLoader<string, AppealRecord[]> {
  return new DataLoader(async (subjectIds) => {
    await requireStaff(deps, scope, 'subject.appeals');
    const found = await appealsBySubjects(deps.db, subjectIds);
    await recordReads(deps, scope, found);
    return subjectIds.map((id) => found.filter((a) => a.subjectId === id));
  });
}
