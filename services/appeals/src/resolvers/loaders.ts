import { groupedLoader, type RequestScope } from '@pdp/shared';
import DataLoader from 'dataloader';
import type { Deps } from '../config';
import { appealsByIds, appealsBySubjects } from '../db/appeals.repository';
import type { AppealRecord } from '../domain/appeal';

/** Personal data an appeal holds, as listed in access records. */
const APPEAL_PD_FIELDS = ['phone', 'email', 'description'];

/** Staff reads of appeals by id: one query per batch (e.g. an `_entities` call). */
export function appealLoader(deps: Deps, scope: RequestScope): DataLoader<string, AppealRecord | null> {
  return new DataLoader(async (ids) => {
    const found = await deps.guard.readHeld(scope, { operation: 'appeal.read', resource: 'appeal', fields: APPEAL_PD_FIELDS, load: () => appealsByIds(deps.db, ids) });
    const byId = new Map(found.map((a) => [a.id, a]));
    return ids.map((id) => byId.get(id) ?? null);
  });
}

/** `Subject.appeals` for every subject of an `_entities` call in one query. */
export function appealsOfSubjectLoader(deps: Deps, scope: RequestScope): DataLoader<string, AppealRecord[]> {
  return groupedLoader(
    (subjectIds) => deps.guard.readHeld(scope, { operation: 'subject.appeals', resource: 'appeal', fields: APPEAL_PD_FIELDS, load: () => appealsBySubjects(deps.db, subjectIds) }),
    (a) => a.subjectId,
  );
}
