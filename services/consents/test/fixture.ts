import { randomUUID } from 'node:crypto';
import { generateSealKeyPair } from '@pdp/shared';
import { serviceTest } from '../../../tests/support/service';
import { DEVELOPMENT_OPERATOR } from '../src/config';
import type { ConsentsDatabase } from '../src/service';
import { consentsService } from '../src/service';
import { insertConsent } from '../src/db/consents.repository';
import { insertObligations } from '../src/db/obligations.repository';
import type { Kysely } from 'kysely';

/** The consents service on a fresh clone of its template database (tests/support/service.ts). */
export const test = serviceTest(consentsService, async () => ({ sealPrivateKey: (await generateSealKeyPair()).privateJwk, operator: DEVELOPMENT_OPERATOR }));

/** A counterparty's contract consent, as the registration consumer stores it, with obligations due on `due` dates. */
export async function contractConsent(db: Kysely<ConsentsDatabase>, due: string[] = [], opts: { granted?: boolean } = {}) {
  const id = randomUUID();
  const subjectId = randomUUID();
  await insertConsent(db, {
    id,
    templateCode: 'COUNTERPARTY_CONTRACT',
    templateVersion: 1,
    locale: 'RU',
    channel: 'PAPER',
    givenAt: new Date(),
    ipEnc: null,
    userAgentEnc: null,
    documentEnc: null,
    enteredBy: 'contracts-1',
    appealId: null,
    subjectId,
    categories: ['COUNTERPARTY'],
    purpose: { code: 'CONTRACT_PERFORMANCE', reference: randomUUID() },
    granted: opts.granted ?? true,
  });
  const obligations = due.map((dueDate) => ({ id: randomUUID(), consentId: id, descriptionEnc: null, dueDate }));
  await insertObligations(db, obligations);
  return { id, subjectId, obligationIds: obligations.map((o) => o.id) };
}
