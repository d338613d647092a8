import {
  blockedAmong,
  ConflictError,
  coversCategories,
  enqueueEvents,
  eventHeader,
  ForbiddenError,
  NotFoundError,
  parseInput,
  SubjectBlockedError,
  textSchema,
  type RequestScope,
} from '@pdp/shared';
import type { Transaction } from 'kysely';
import { z } from 'zod';
import type { Deps } from './config';
import { insertReceipt, lockConsent, markWithdrawn } from './db/consents.repository';
import { lockObligation, markFulfilled, openObligations } from './db/obligations.repository';
import type { ConsentRow, Database, ObligationRow } from './db/tables';
import { ConsentWithdrawalForbiddenError, EmploymentConsentForbiddenError, PURPOSES } from './domain/consent';

/** Whether the consent is an employee's Annex 1 whose employment has not been reported ended. */
async function employmentGoesOn(trx: Transaction<Database>, consent: ConsentRow): Promise<boolean> {
  if (consent.template_code !== 'ANNEX1_EMPLOYEE' || consent.purpose_code !== PURPOSES.LABOUR_RELATIONS || !consent.purpose_reference) return false;
  const ended = await trx
    .selectFrom('ended_purposes')
    .select('ended_on')
    .where('code', '=', PURPOSES.LABOUR_RELATIONS)
    .where('reference', '=', consent.purpose_reference)
    .executeTakeFirst();
  return !ended;
}

const reasonInput = z.object({ reason: textSchema(3, 2000) });

/**
 * DPO, on the subject's request (6.1.5): the consent is withdrawn unless the law keeps it — an
 * employee's Annex 1 while the employment has not ended (CONSENT_WITHDRAWAL_FORBIDDEN, reason LAW) —
 * or an obligation it covers is still unfulfilled (5.2, Art. 8(2)) — then CONSENT_WITHDRAWAL_FORBIDDEN
 * names the open ones. A
 * withdrawal spreads like a block: `consent.withdrawn` tells every holder to stop the processing it
 * covered, each confirms with `consent.withdrawal_applied` (consents' own in the same transaction),
 * and subjects marks the purpose it served achieved, so retention proposes erasure where nothing else
 * needs the data. Allowed while the subject is blocked: it only takes processing away.
 */
export async function withdrawConsent(deps: Deps, scope: RequestScope, consentId: string, reasonRaw: string): Promise<void> {
  const { reason } = parseInput(reasonInput, { reason: reasonRaw }, scope.meta.locale);
  await deps.db.transaction().execute(async (trx) => {
    const consent = await lockConsent(trx, consentId);
    if (!consent || consent.depersonalized_at) throw new NotFoundError(scope.meta.locale, 'Consent');
    if (consent.withdrawn_at) throw new ConflictError(scope.meta.locale, 'CONSENT_WITHDRAWN', 'state.consentWithdrawn');
    if (!consent.granted) throw new ConflictError(scope.meta.locale, 'CONSENT_NOT_GRANTED');
    // Art. 8(2): an employee's Annex 1 consent stands while the employment lasts (labour law needs the
    // data); it may be withdrawn once subjects reported the employment ended.
    if (await employmentGoesOn(trx, consent)) throw new EmploymentConsentForbiddenError(scope.meta.locale);
    const open = await openObligations(trx, consentId);
    if (open.length > 0)
      throw new ConsentWithdrawalForbiddenError(
        scope.meta.locale,
        open.map((o) => ({ id: o.id, dueDate: o.due_date })),
      );
    await applyWithdrawal(deps, trx, scope, consent, deps.cipher.encrypt(reason, { table: 'consents', column: 'withdrawal_reason_enc', id: consent.id }));
  });
}

/** Marks the consent withdrawn, with consents' own receipt, and tells every holder. */
export async function applyWithdrawal(
  deps: Deps,
  trx: Transaction<Database>,
  scope: RequestScope,
  consent: ConsentRow,
  reasonEnc: string | null,
): Promise<void> {
  const at = new Date();
  await markWithdrawn(trx, consent.id, scope.actor.id, reasonEnc, at);
  await insertReceipt(trx, consent.id, 'consents', at);
  const purpose = consent.purpose_code && consent.purpose_reference ? { code: consent.purpose_code, reference: consent.purpose_reference } : null;
  await enqueueEvents(trx, deps.prefix, [
    {
      ...eventHeader('consents', scope, consent.subject_id),
      type: 'consent.withdrawn' as const,
      data: { consentId: consent.id, templateCode: consent.template_code, purpose },
    },
    {
      ...eventHeader('consents', scope, consent.subject_id),
      type: 'consent.withdrawal_applied' as const,
      data: { consentId: consent.id, service: 'consents' as const },
    },
  ]);
}

/**
 * CONTRACTS: an obligation of a counterparty's contract is fulfilled. Once none is open the consent
 * may be withdrawn, and subjects marks the contract performed (CONTRACT_PERFORMANCE achieved). Not
 * while the subject is blocked (no changes, 6.1.3); only within the caller's categories (4.4).
 */
export async function fulfilObligation(
  deps: Deps,
  scope: RequestScope,
  obligationId: string,
): Promise<{ obligation: ObligationRow; subjectId: string | null }> {
  return deps.db.transaction().execute(async (trx) => {
    const found = await lockObligation(trx, obligationId);
    const consent = found ? await lockConsent(trx, found.consent_id) : undefined;
    if (!found || !consent || consent.depersonalized_at) throw new NotFoundError(scope.meta.locale, 'Obligation');
    if (!coversCategories(scope.actor.roles, consent.categories)) {
      await deps.guard.recordDenied(scope, 'Mutation.fulfilObligation', 'PURPOSE', consent.subject_id);
      throw new ForbiddenError(scope.meta.locale);
    }
    if ((await blockedAmong(trx, [consent.subject_id])).size > 0) throw new SubjectBlockedError(scope.meta.locale);
    if (found.fulfilled_at) throw new ConflictError(scope.meta.locale, 'OBLIGATION_FULFILLED', 'state.obligationFulfilled');
    const obligation = await markFulfilled(trx, obligationId, scope.actor.id);
    const open = await openObligations(trx, consent.id);
    await enqueueEvents(trx, deps.prefix, [
      {
        ...eventHeader('consents', scope, consent.subject_id),
        type: 'obligation.fulfilled' as const,
        data: { obligationId, consentId: consent.id, openObligations: open.length },
      },
    ]);
    return { obligation, subjectId: consent.subject_id };
  });
}
