import { ConflictError, NotFoundError, SubjectBlockedError, blockedAmong, enqueueEvent, type RequestScope } from '@pdp/shared';
import type { Deps } from './config';
import { lockAppeal, setAppealStatus } from './db/lifecycle.repository';
import { canMove, type AppealStatus } from './domain/appeal';

/** Moves an appeal along its workflow; a blocked subject's appeals do not move (6.1.3). */
export async function changeAppealStatus(deps: Deps, scope: RequestScope, appealId: string, to: AppealStatus): Promise<void> {
  const blockedSubject = await deps.db.transaction().execute(async (trx) => {
    const appeal = await lockAppeal(trx, appealId);
    if (!appeal) throw new NotFoundError(scope.meta.locale, 'Appeal');
    if ((await blockedAmong(trx, [appeal.subject_id])).size > 0) return appeal.subject_id;
    const from = appeal.status as AppealStatus;
    if (!canMove(from, to)) throw new ConflictError(scope.meta.locale, `${from} → ${to} is not allowed`);
    await setAppealStatus(trx, appealId, to);
    await enqueueEvent(trx, deps.prefix, {
      type: 'appeal.status_changed',
      source: 'appeals',
      actor: scope.actor,
      subjectId: appeal.subject_id,
      correlationId: scope.meta.requestId,
      data: { appealId, from, to },
    });
    return null;
  });
  if (blockedSubject) {
    await deps.guard.recordDenied(scope, 'appeal.changeStatus', 'BLOCKED', blockedSubject);
    throw new SubjectBlockedError(scope.meta.locale);
  }
}
