import { timingSafeEqual } from 'node:crypto';
import {
  blindIndex,
  blockedAmong,
  ConflictError,
  enqueueEvent,
  eventHeader,
  iinSchema,
  NotFoundError,
  parseInput,
  SubjectBlockedError,
  type RequestScope,
} from '@pdp/shared';
import type { Transaction } from 'kysely';
import { z } from 'zod';
import type { Deps } from './config';
import { addChange, addNote, appealByReference } from './db/appeals.repository';
import type { Database } from './db/tables';
import { lockAppeal, setAppealStatus } from './db/lifecycle.repository';
import { canMove, noteSchema, STATUS_NAMES, type AppealStatus } from './domain/appeal';
import { STATUS_LOOKUP_INDEX } from './intake.service';

/** Moves an appeal along its workflow; a blocked subject's appeals do not move (6.1.3). */
export async function changeAppealStatus(deps: Deps, scope: RequestScope, appealId: string, to: AppealStatus): Promise<void> {
  await onUnblockedAppeal(deps, scope, appealId, 'appeal.changeStatus', async (trx, appeal) => {
    const from = appeal.status as AppealStatus;
    if (!canMove(from, to)) {
      const locale = scope.meta.locale;
      throw new ConflictError(locale, 'TRANSITION_NOT_ALLOWED', 'state.transition', { from: STATUS_NAMES[from][locale], to: STATUS_NAMES[to][locale] });
    }
    await setAppealStatus(trx, appealId, to);
    await addChange(trx, appealId, to, scope.actor.id);
    await enqueueEvent(trx, deps.prefix, {
      ...eventHeader('appeals', scope, appeal.subject_id),
      type: 'appeal.status_changed',
      data: { appealId, from, to },
    });
  });
}

/** A note in the appeal's history (free text, so encrypted); a blocked subject's appeal takes none. */
export async function commentAppeal(deps: Deps, scope: RequestScope, appealId: string, noteRaw: string): Promise<void> {
  const { note } = parseInput(noteSchema, { note: noteRaw }, scope.meta.locale);
  await onUnblockedAppeal(deps, scope, appealId, 'appeal.comment', async (trx, appeal) => {
    await addNote(trx, appealId, appeal.status, scope.actor.id, (id) => deps.cipher.encrypt(note, { table: 'appeal_changes', column: 'note_enc', id }));
    await deps.guard.recordAccess(
      scope,
      [{ subjectId: appeal.subject_id, resource: 'appeal', resourceIds: [appealId], fields: ['history.note'], operation: 'STORE' }],
      trx,
    );
  });
}

type Locked = NonNullable<Awaited<ReturnType<typeof lockAppeal>>>;

/** Runs a change on an appeal under its row lock, refusing (and recording) it for a blocked subject. */
async function onUnblockedAppeal(
  deps: Deps,
  scope: RequestScope,
  appealId: string,
  operation: string,
  change: (trx: Transaction<Database>, appeal: Locked) => Promise<void>,
): Promise<void> {
  const blockedSubject = await deps.db.transaction().execute(async (trx) => {
    const appeal = await lockAppeal(trx, appealId);
    if (!appeal) throw new NotFoundError(scope.meta.locale, 'Appeal');
    if ((await blockedAmong(trx, [appeal.subject_id])).size > 0) return appeal.subject_id;
    await change(trx, appeal);
    return null;
  });
  if (blockedSubject) {
    await deps.guard.recordDenied(scope, operation, 'BLOCKED', blockedSubject);
    throw new SubjectBlockedError(scope.meta.locale);
  }
}

const lookupSchema = z.object({ reference: z.string().trim().toUpperCase().max(40), iin: iinSchema });

/**
 * The person's own view (`appealStatus`): status and deadline when the reference and the IIN both
 * match, null otherwise — the same null whether the reference exists or not, so nothing can be
 * learned by guessing. Every lookup is recorded: a match as a read of the appeal, a miss as a
 * denied attempt. A blocked subject's appeal answers null (its processing is stopped).
 */
export async function appealStatus(deps: Deps, scope: RequestScope, args: { reference: string; iin: string }) {
  // The person's own door; staff and partners read appeals through their own operations.
  await deps.guard.authorize(scope, 'Query.appealStatus');
  const parsed = lookupSchema.safeParse(args);
  const appeal = parsed.success ? await appealByReference(deps.db, parsed.data.reference) : undefined;
  const expected = parsed.success ? Buffer.from(blindIndex(deps.config.blindIndexKey, STATUS_LOOKUP_INDEX, parsed.data.iin)) : null;
  const stored = appeal?.iin_bidx ? Buffer.from(appeal.iin_bidx) : null;
  const matches = Boolean(expected && stored && expected.length === stored.length && timingSafeEqual(expected, stored));
  if (!appeal || !matches) {
    await deps.guard.recordDenied(scope, 'appeal.status', 'SCOPE');
    return null;
  }
  if ((await blockedAmong(deps.db, [appeal.subject_id])).size > 0) {
    await deps.guard.recordDenied(scope, 'appeal.status', 'BLOCKED', appeal.subject_id);
    return null;
  }
  await deps.guard.recordAccess(scope, [{ subjectId: appeal.subject_id, resource: 'appeal_status', resourceIds: [appeal.id], fields: ['status', 'deadline'] }]);
  return { reference: appeal.reference!, status: appeal.status as AppealStatus, deadline: appeal.deadline };
}
