import { randomUUID } from 'node:crypto';
import { generateSealKeyPair, kazakhstanCalendar } from '@pdp/shared';
import type { Kysely } from 'kysely';
import { serviceTest } from '../../../tests/support/service';
import type { AppealStatus } from '../src/domain/appeal';
import type { Database } from '../src/db/tables';
import { appealsService } from '../src/service';

/** The appeals service on a fresh clone of its template database (tests/support/service.ts). */
export const test = serviceTest(appealsService, async () => ({
  subjectsSealKey: (await generateSealKeyPair()).publicJwk,
  consentsSealKey: (await generateSealKeyPair()).publicJwk,
  sealPrivateKey: (await generateSealKeyPair()).privateJwk,
  answerWorkingDays: 15,
  calendar: kazakhstanCalendar(),
  bootstrapDpo: null,
}));

let sequence = 0;

/** An appeal linked to its subject, in `status`, as the intake and the workflow leave it. */
export async function appealIn(db: Kysely<Database>, status: AppealStatus = 'NEW') {
  const id = randomUUID();
  const subjectId = randomUUID();
  sequence += 1;
  await db
    .insertInto('appeals')
    .values({
      id,
      reference: `APL-2026-${String(700000 + sequence)}`,
      kind: 'APPEAL',
      status,
      channel: 'collectors.kz/appeal',
      locale: 'RU',
      subject_id: subjectId,
      phone_enc: null,
      email_enc: null,
      description_enc: null,
      depersonalized_at: null,
      deadline: '2027-01-29',
      entered_by: null,
      iin_bidx: null,
      assignee: null,
      answer_enc: null,
      answered_at: null,
      forwarded_to: null,
      forwarded_fields: null,
      forwarded_at: null,
      partner_response_enc: null,
      partner_responded_at: null,
    })
    .execute();
  return { id, subjectId };
}

/** A creditor registered with the Chamber (`country` KZ unless given). */
export async function creditor(db: Kysely<Database>, country = 'KZ') {
  const id = randomUUID();
  await db
    .insertInto('creditors')
    .values({ id, bin: String(100000000000 + (sequence += 1)), name: 'ТОО «Кредитор»', country, registered_by: 'dpo-1' })
    .execute();
  return id;
}

/** The subject's consent allows transfer to third parties, as consents' events project it here. */
export async function transferConsent(db: Kysely<Database>, appeal: { id: string; subjectId: string }, allows = true) {
  await db
    .insertInto('transfer_consents')
    .values({ consent_id: randomUUID(), appeal_id: appeal.id, subject_id: appeal.subjectId, allows_transfer: allows, withdrawn_at: null })
    .execute();
}
