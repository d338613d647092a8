import { BLOCKED_RECORD_READERS, ForbiddenError, coversCategories, groupedLoader, hasAnyRole, type RequestScope } from '@pdp/shared';
import DataLoader from 'dataloader';
import type { Deps } from '../config';
import { blockReceiptsOf, blocksOf } from '../db/blocks.repository';
import { actsOfSubjects, receiptsOf } from '../db/erasure.repository';
import { rectificationsOf } from '../db/rectification.repository';
import { contractsOf, employmentsOf } from '../db/registration.repository';
import { loadSubjects } from '../db/subjects.repository';

import type { SubjectRecord } from '../domain/subject';

/** Fields of a subject record that are personal data, as listed in access records. */
const SUBJECT_PD_FIELDS = ['iin', 'categories', 'purposes', 'sources'];

/**
 * One SQL query per batch (a whole `_entities` call or a page of results), and one access record per
 * subject committed before any of them is returned. A blocked subject is hidden from everyone but the
 * DPO, the audit and the CHAIRMAN (its record, no PD value), and the attempt is recorded as denied.
 */
export function subjectLoader(deps: Deps, scope: RequestScope): DataLoader<string, SubjectRecord | null> {
  return new DataLoader<string, SubjectRecord | null>(async (ids) => {
    await deps.guard.authorize(scope, 'Query.subject');
    const found = new Map((await loadSubjects(deps.db, ids)).map((s) => [s.id, s]));
    // A role reads only the categories its purpose covers (4.3, 4.4): HR employees, CONTRACTS
    // counterparties, OPERATOR applicants and the people around a debt; the rest is PURPOSE-denied.
    const inScope = (s: SubjectRecord) => coversCategories(scope.actor.roles, s.categories);
    const unblocked = (s: SubjectRecord) => s.status !== 'BLOCKED' || hasAnyRole(scope.actor, BLOCKED_RECORD_READERS);
    const readable = (s: SubjectRecord) => inScope(s) && unblocked(s);
    const visible = [...found.values()].filter(readable);
    for (const s of found.values()) {
      if (!inScope(s)) await deps.guard.recordDenied(scope, 'Query.subject', 'PURPOSE', s.id);
      else if (!unblocked(s)) await deps.guard.recordDenied(scope, 'Query.subject', 'BLOCKED', s.id);
    }
    await deps.guard.recordAccess(
      scope,
      visible.map((s) => ({ subjectId: s.id, resource: 'subject', resourceIds: [s.id], fields: SUBJECT_PD_FIELDS })),
    );
    return ids.map((id) => {
      const s = found.get(id);
      if (!s) return null;
      return readable(s) ? s : new ForbiddenError(scope.meta.locale);
    });
  });
}

/** Lists hanging off a subject or an act, one query per batch; reached only through a readable subject. */
export function lifecycleLoaders(deps: Deps) {
  return {
    blockReceipts: groupedLoader(
      (ids) => blockReceiptsOf(deps.db, ids),
      (r) => r.subject_id,
    ),
    erasureActs: groupedLoader(
      (ids) => actsOfSubjects(deps.db, ids),
      (a) => a.subject_id,
    ),
    actReceipts: groupedLoader(
      (ids) => receiptsOf(deps.db, ids),
      (r) => r.act_id,
    ),
    rectifications: groupedLoader(
      (ids) => rectificationsOf(deps.db, ids),
      (r) => r.subject_id,
    ),
    blocks: groupedLoader(
      (ids) => blocksOf(deps.db, ids),
      (b) => b.subject_id,
    ),
    employments: groupedLoader(
      (ids) => employmentsOf(deps.db, ids),
      (e) => e.subject_id,
    ),
    contracts: groupedLoader(
      (ids) => contractsOf(deps.db, ids),
      (c) => c.subject_id,
    ),
  };
}
