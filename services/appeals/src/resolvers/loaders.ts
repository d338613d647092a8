import { groupedLoader, type RequestScope } from '@pdp/shared';
import DataLoader from 'dataloader';
import type { Deps } from '../config';
import { appealsByIds, appealsBySubjects, changesOf, type AppealChangeRow } from '../db/appeals.repository';
import { APPEAL_PD_FIELDS, type AppealRecord } from '../domain/appeal';

/** Staff reads of appeals by id: one query per batch (e.g. an `_entities` call). */
export function appealLoader(deps: Deps, scope: RequestScope): DataLoader<string, AppealRecord | null> {
  return new DataLoader(async (ids) => {
    const found = await deps.guard.readHeld(scope, {
      operation: 'Query.appeal',
      resource: 'appeal',
      fields: APPEAL_PD_FIELDS,
      load: () => appealsByIds(deps.db, ids),
    });
    const byId = new Map(found.map((a) => [a.id, a]));
    return ids.map((id) => byId.get(id) ?? null);
  });
}

/** `Subject.appeals` for every subject of an `_entities` call in one query. */
export function appealsOfSubjectLoader(deps: Deps, scope: RequestScope): DataLoader<string, AppealRecord[]> {
  return groupedLoader(
    (subjectIds) =>
      deps.guard.readHeld(scope, {
        operation: 'Subject.appeals',
        resource: 'appeal',
        fields: APPEAL_PD_FIELDS,
        load: () => appealsBySubjects(deps.db, subjectIds),
      }),
    (a) => a.subjectId,
  );
}

/**
 * `Appeal.history` for every appeal of a request in one query; staff only, and the read of the
 * notes (free text) is recorded per subject before they are returned.
 */
export function appealHistoryLoader(deps: Deps, scope: RequestScope): DataLoader<AppealRecord, AppealChangeRow[], string> {
  return new DataLoader(
    async (appeals) => {
      await deps.guard.authorize(scope, 'Appeal.pd');
      const rows = await changesOf(
        deps.db,
        appeals.map((a) => a.id),
      );
      await deps.guard.recordReads(scope, { resource: 'appeal', fields: ['history'] }, [...appeals]);
      return appeals.map((a) => rows.filter((r) => r.appealId === a.id));
    },
    { cacheKeyFn: (a) => a.id },
  );
}
