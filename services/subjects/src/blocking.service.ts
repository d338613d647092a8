import { ConflictError, enqueueEvents, eventHeader, parseInput, textSchema, type RequestScope } from '@pdp/shared';
import { z } from 'zod';
import type { Deps } from './config';
import * as repo from './db/blocks.repository';
import { canBlock, canUnblock } from './domain/lifecycle';
import { lockedSubject } from './subject-lock';

const reasonInput = z.object({ reason: textSchema(3, 2000) });

/**
 * Blocking (6.1.3) and unblocking: the status, the block record and subjects' own receipt change
 * with the event in one transaction; the other holders confirm from the stream.
 */
export async function setSubjectBlocked(deps: Deps, scope: RequestScope, subjectId: string, reasonRaw: string, blocked: boolean): Promise<void> {
  const { reason } = parseInput(reasonInput, { reason: reasonRaw }, scope.meta.locale);
  await deps.db.transaction().execute(async (trx) => {
    const subject = await lockedSubject(trx, scope, subjectId);
    if (!(blocked ? canBlock : canUnblock)(subject.status)) throw new ConflictError(scope.meta.locale, `SUBJECT_${subject.status}`, 'state.subjectStatus');
    const version = await repo.setBlockStatus(trx, subjectId, blocked);
    if (blocked) await repo.openBlock(trx, subjectId, reason, scope.actor.id);
    else await repo.closeBlock(trx, subjectId, reason, scope.actor.id);
    await repo.upsertBlockReceipt(trx, subjectId, 'subjects', blocked, new Date(), version);
    await enqueueEvents(trx, deps.prefix, [
      {
        ...eventHeader('subjects', scope, subjectId),
        type: blocked ? ('subject.blocked' as const) : ('subject.unblocked' as const),
        data: { subjectId, version },
      },
      {
        ...eventHeader('subjects', scope, subjectId),
        type: 'subject.block_applied' as const,
        data: { subjectId, blocked, service: 'subjects' as const, version },
      },
    ]);
  });
}
