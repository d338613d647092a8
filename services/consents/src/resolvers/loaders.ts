import { STAFF_ROLES, groupedLoader, hasAnyRole, type RequestScope, type Role } from '@pdp/shared';
import DataLoader from 'dataloader';
import type { Deps } from '../config';
import { blockedAmong, consentsByIds, consentsBySubjects } from '../db/consents.repository';
import type { ConsentRecord } from '../domain/consent';

const CONSENT_PD_FIELDS = ['template', 'givenAt', 'evidence'];

/** Who may still read a blocked subject's consents (6.1.3). */
const BLOCKED_READERS: readonly Role[] = ['DPO', 'AUDITOR'];

async function staffRead(deps: Deps, scope: RequestScope, operation: string, load: () => Promise<ConsentRecord[]>): Promise<ConsentRecord[]> {
  await deps.guard.require(scope, operation, STAFF_ROLES);
  const all = await load();
  const blocked = hasAnyRole(scope.actor, BLOCKED_READERS) ? new Set<string>() : await blockedAmong(deps.db, all.map((c) => c.subjectId));
  for (const subjectId of blocked) await deps.guard.recordDenied(scope, operation, 'BLOCKED', subjectId);
  const found = all.filter((c) => !c.subjectId || !blocked.has(c.subjectId));
  const bySubject = new Map<string | null, string[]>();
  for (const c of found) bySubject.set(c.subjectId, [...(bySubject.get(c.subjectId) ?? []), c.id]);
  await deps.guard.recordAccess(
    scope,
    [...bySubject].map(([subjectId, ids]) => ({ subjectId, resource: 'consent', resourceIds: ids, fields: CONSENT_PD_FIELDS })),
  );
  return found;
}

export function consentLoader(deps: Deps, scope: RequestScope): DataLoader<string, ConsentRecord | null> {
  return new DataLoader(async (ids) => {
    const found = new Map((await staffRead(deps, scope, 'consent.read', () => consentsByIds(deps.db, ids))).map((c) => [c.id, c]));
    return ids.map((id) => found.get(id) ?? null);
  });
}

/** `Subject.consents` for every subject of an `_entities` call in one query. */
export function consentsOfSubjectLoader(deps: Deps, scope: RequestScope): DataLoader<string, ConsentRecord[]> {
  return groupedLoader((subjectIds) => staffRead(deps, scope, 'subject.consents', () => consentsBySubjects(deps.db, subjectIds)), (c) => c.subjectId);
}
