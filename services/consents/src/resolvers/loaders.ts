import { STAFF_ROLES, type RequestScope } from '@pdp/shared';
import DataLoader from 'dataloader';
import type { Deps } from '../config';
import { consentsByIds, consentsBySubjects } from '../db/consents.repository';
import type { ConsentRecord } from '../domain/consent';

const CONSENT_PD_FIELDS = ['template', 'givenAt', 'evidence'];

async function staffRead(deps: Deps, scope: RequestScope, operation: string, load: () => Promise<ConsentRecord[]>): Promise<ConsentRecord[]> {
  await deps.guard.require(scope, operation, STAFF_ROLES);
  const found = await load();
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
    const found = await staffRead(deps, scope, 'consent.read', () => consentsByIds(deps.db, ids));
    return ids.map((id) => found.find((c) => c.id === id) ?? null);
  });
}

/** `Subject.consents` for every subject of an `_entities` call in one query. */
export function consentsOfSubjectLoader(deps: Deps, scope: RequestScope): DataLoader<string, ConsentRecord[]> {
  return new DataLoader(async (subjectIds) => {
    const found = await staffRead(deps, scope, 'subject.consents', () => consentsBySubjects(deps.db, subjectIds));
    return subjectIds.map((id) => found.filter((c) => c.subjectId === id));
  });
}
