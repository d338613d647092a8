import { randomUUID } from 'node:crypto';
import { addWorkingDays, enqueueEvent, handoffOutboxRows, parseInput, sealHandoff, type RequestScope } from '@pdp/shared';
import type { Deps } from './config';
import { insertAppeal, nextReferenceNumber } from './db/appeals.repository';
import { FORMS, INTAKE_CONSENT_TEMPLATE, appealReference, submitAppealSchema, type AppealRecord, type Locale } from './domain/appeal';

/**
 * Public intake (Annexes 3–5): validates the whole form first (bad input stores nothing), then stores
 * the appeal with its contact data encrypted and, in the same transaction, the `appeal.submitted`
 * event. The IIN is handed off sealed to subjects and the consent evidence sealed to consents, in
 * the same transaction but outside the event stream (`handoff.ts`): the event carries only references
 * to them, so an erasure can remove every copy.
 */
export async function submitAppeal(deps: Deps, scope: RequestScope, input: Record<string, unknown>): Promise<AppealRecord> {
  const requested = input.locale === 'KK' || input.locale === 'RU' ? (input.locale as Locale) : null;
  const form = parseInput(submitAppealSchema, input, requested ?? scope.meta.locale);
  const locale: Locale = form.locale ?? scope.meta.locale;
  const { channel } = FORMS[form.kind];
  const submittedAt = new Date();
  const id = randomUUID();
  const [identity, evidence] = await Promise.all([
    sealHandoff('subjects', id, { iin: form.iin }, deps.config.extra.subjectsSealKey),
    sealHandoff('consents', id, { ip: scope.meta.ip, userAgent: scope.meta.userAgent }, deps.config.extra.consentsSealKey),
  ]);
  const deadline = addWorkingDays(submittedAt, deps.config.extra.answerWorkingDays, deps.config.extra.calendar);

  return deps.db.transaction().execute(async (trx) => {
    const reference = appealReference(form.kind, submittedAt.getUTCFullYear(), await nextReferenceNumber(trx));
    const appeal = await insertAppeal(trx, {
      id,
      reference,
      kind: form.kind,
      channel,
      locale,
      phoneEnc: deps.cipher.encrypt(form.phone),
      emailEnc: deps.cipher.encrypt(form.email),
      descriptionEnc: deps.cipher.encrypt(form.description),
      deadline: deadline.toISOString().slice(0, 10),
      submittedAt,
    }, handoffOutboxRows(deps.prefix, [identity, evidence]));
    await enqueueEvent(trx, deps.prefix, {
      type: 'appeal.submitted',
      source: 'appeals',
      actor: scope.actor,
      correlationId: scope.meta.requestId,
      data: {
        appealId: id,
        reference,
        kind: form.kind,
        channel,
        locale,
        identity: identity.ref,
        consent: { templateCode: INTAKE_CONSENT_TEMPLATE, givenAt: submittedAt.toISOString(), evidence: evidence.ref },
      },
    });
    return appeal;
  });
}
