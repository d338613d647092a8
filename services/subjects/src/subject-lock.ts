import { NotFoundError, type RequestScope } from '@pdp/shared';
import type { Transaction } from 'kysely';
import { lockSubject } from './db/subjects.repository';
import type { Database } from './db/tables';

/**
 * The subject's lifecycle (clauses 4.6, 6.1.2–6.1.4): subjects is the source of truth for status and
 * starts every change; each change and its event commit together, and every holder of the subject's
 * data applies it from the event and answers with a receipt.
 */

/** The subject's row, locked for a change of its status; NOT_FOUND when there is no such subject. */
export async function lockedSubject(trx: Transaction<Database>, scope: RequestScope, subjectId: string) {
  const subject = await lockSubject(trx, subjectId);
  if (!subject) throw new NotFoundError(scope.meta.locale, 'Subject');
  return subject;
}
