import type { RequestScope } from '@pdp/shared';
import type { Deps } from '../config';

/**
 * Records a read of rows that name subjects (erasure acts, rectification requests): one access
 * record per subject, committed before the rows are returned (7.2.3: reads are recorded too).
 */
export async function recordReads<T extends { id: string; subject_id: string }>(
  deps: Deps,
  scope: RequestScope,
  resource: string,
  fields: string[],
  rows: T[],
): Promise<T[]> {
  const bySubject = new Map<string, string[]>();
  for (const r of rows) bySubject.set(r.subject_id, [...(bySubject.get(r.subject_id) ?? []), r.id]);
  await deps.guard.recordAccess(
    scope,
    [...bySubject].map(([subjectId, resourceIds]) => ({ subjectId, resource, resourceIds, fields })),
  );
  return rows;
}
