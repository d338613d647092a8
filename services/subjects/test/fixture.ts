import { randomUUID } from 'node:crypto';
import { generateSealKeyPair, kazakhstanCalendar, type ServiceDeps } from '@pdp/shared';
import { makeIin } from '@pdp/shared/testing';
import type { Transaction } from 'kysely';
import { serviceTest } from '../../../tests/support/service';
import type { SubjectsExtra } from '../src/config';
import type { Database } from '../src/db/tables';
import { findOrRegisterSubject } from '../src/db/subjects.repository';
import { iinBlindIndex } from '../src/domain/identity';
import { subjectsService } from '../src/service';

/** The key appeals opens corrected contact values with: the specs open what subjects sealed to it. */
export const appealsSealKeys = await generateSealKeyPair();

/** The subjects service on a fresh clone of its template database (tests/support/service.ts). */
export const test = serviceTest(
  subjectsService,
  async (): Promise<SubjectsExtra> => ({
    sealPrivateKey: (await generateSealKeyPair()).privateJwk,
    appealsSealKey: appealsSealKeys.publicJwk,
    consentsSealKey: (await generateSealKeyPair()).publicJwk,
    retentionDays: 365,
    retentionSweepMs: 3_600_000,
    retentionMethod: 'DEPERSONALIZE',
    rightsRequestWorkingDays: 3,
    calendar: kazakhstanCalendar(),
  }),
);

let serial = 0;

/** A fresh valid IIN (a new serial each call). */
export function freshIin(): string {
  serial += 1;
  return makeIin('1980-04-12', 'M', serial * 7);
}

/** An applicant registered as the intake registers one, with the APPEAL_HANDLING purpose still ACTIVE. */
export async function applicant(deps: ServiceDeps<Database, SubjectsExtra>, iin = freshIin()) {
  const newId = randomUUID();
  const appealId = randomUUID();
  const { id } = await deps.db.transaction().execute((trx: Transaction<Database>) =>
    findOrRegisterSubject(trx, {
      id: newId,
      iinBidx: iinBlindIndex(deps.config.blindIndexKey, iin),
      iinEncrypted: deps.cipher.encrypt(iin, { table: 'subjects', column: 'iin_enc', id: newId }),
      category: 'APPLICANT',
      source: { code: 'WEB_FORM', reference: appealId },
      purpose: { code: 'APPEAL_HANDLING', reference: appealId },
    }),
  );
  return { id, iin, appealId };
}
