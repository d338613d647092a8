import { STAFF_ROLES, groupedLoader, hasAnyRole, type RequestScope, type Role } from '@pdp/shared';
import DataLoader from 'dataloader';
import type { Deps } from '../config';
import { appealsByIds, appealsBySubjects } from '../db/appeals.repository';
import { blockedAmong } from '../db/lifecycle.repository';
import type { AppealRecord } from '../domain/appeal';

/** Personal data an appeal holds, as listed in access records. */
const APPEAL_PD_FIELDS = ['phone', 'email', 'description'];
/** Who may still read a blocked subject's appeals (6.1.3). */
const BLOCKED_READERS: readonly Role[] = ['DPO', 'AUDITOR'];

/**
 * Every staff read of appeals goes through here: role check, blocked subjects hidden from all but
 * the DPO and the audit (the attempt recorded as denied), and one access record per subject
 * committed before the appeals are returned.
 */
async function staffRead(deps: Deps, scope: RequestScope, operation: string, load: () => Promise<AppealRecord[]>): Promise<AppealRecord[]> {
  await deps.guard.require(scope, operation, STAFF_ROLES);
  const found = await load();
  const blocked = hasAnyRole(scope.actor, BLOCKED_READERS) ? new Set<string>() : await blockedAmong(deps.db, found.map((a) => a.subjectId));
  for (const subjectId of blocked) await deps.guard.recordDenied(scope, operation, 'BLOCKED', subjectId);
  const visible = found.filter((a) => !a.subjectId || !blocked.has(a.subjectId));
  const bySubject = new Map<string | null, string[]>();
  for (const a of visible) bySubject.set(a.subjectId, [...(bySubject.get(a.subjectId) ?? []), a.id]);
  await deps.guard.recordAccess(
    scope,
    [...bySubject].map(([subjectId, ids]) => ({ subjectId, resource: 'appeal', resourceIds: ids, fields: APPEAL_PD_FIELDS })),
  );
  return visible;
}

/** Staff reads of appeals by id: one query per batch (e.g. an `_entities` call). */
export function appealLoader(deps: Deps, scope: RequestScope): DataLoader<string, AppealRecord | null> {
  return new DataLoader(async (ids) => {
    const found = await staffRead(deps, scope, 'appeal.read', () => appealsByIds(deps.db, ids));
    const byId = new Map(found.map((a) => [a.id, a]));
    return ids.map((id) => byId.get(id) ?? null);
  });
}

/** `Subject.appeals` for every subject of an `_entities` call in one query. */
export function appealsOfSubjectLoader(deps: Deps, scope: RequestScope): DataLoader<string, AppealRecord[]> {
  return groupedLoader((subjectIds) => staffRead(deps, scope, 'subject.appeals', () => appealsBySubjects(deps.db, subjectIds)), (a) => a.subjectId);
}
