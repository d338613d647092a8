import { groupedLoader, type RequestScope } from '@pdp/shared';
import DataLoader from 'dataloader';
import type { Deps } from '../config';
import { consentsByIds, consentsBySubjects } from '../db/consents.repository';
import type { ConsentRecord } from '../domain/consent';

const CONSENT_PD_FIELDS = ['template', 'givenAt', 'evidence'];

/** Staff reads of consents by id: one query per batch (e.g. an `_entities` call). */
export function consentLoader(deps: Deps, scope: RequestScope): DataLoader<string, ConsentRecord | null> {
  return new DataLoader(async (ids) => {
    const found = await deps.guard.readHeld(scope, { operation: 'Consent.pd', resource: 'consent', fields: CONSENT_PD_FIELDS, load: () => consentsByIds(deps.db, ids) });
    const byId = new Map(found.map((c) => [c.id, c]));
    return ids.map((id) => byId.get(id) ?? null);
  });
}

/** `Subject.consents` for every subject of an `_entities` call in one query. */
export function consentsOfSubjectLoader(deps: Deps, scope: RequestScope): DataLoader<string, ConsentRecord[]> {
  return groupedLoader(
    (subjectIds) => deps.guard.readHeld(scope, { operation: 'Subject.consents', resource: 'consent', fields: CONSENT_PD_FIELDS, load: () => consentsBySubjects(deps.db, subjectIds) }),
    (c) => c.subjectId,
  );
}
