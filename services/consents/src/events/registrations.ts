import { enqueueEvent, eventHeader, kazakhstanMidnight, PermanentError, type ConsumerSpec, type Envelope } from '@pdp/shared';
import type { Transaction } from 'kysely';
import { z } from 'zod';
import type { Deps } from '../config';
import { insertConsent, templateInForce } from '../db/consents.repository';
import { insertObligations } from '../db/obligations.repository';
import { firstVersion } from '../db/templates.repository';
import type { Database, TemplateRow } from '../db/tables';
import { PURPOSES, type Locale } from '../domain/consent';

/**
 * The consents of employees (Annex 1, 5.1) and counterparties (5.2) that HR and CONTRACTS register in
 * subjects: the consent, with the id subjects chose, on the template version in force the day it was
 * signed; the signed document's reference and the obligations' wording come handed off sealed to
 * this service and are stored encrypted. A hand-off that is gone means the person was erased
 * meanwhile: nothing is stored.
 */
const evidenceSchema = z.object({
  document: z.string().min(1).max(500),
  obligations: z
    .array(z.object({ id: z.uuid(), description: z.string().min(1).max(2000) }))
    .max(50)
    .optional(),
});

const DAY_MS = 24 * 3600 * 1000;

/** The version in force by the end of the day it was signed; a paper older than every version is on the first. */
async function signedVersion(db: Transaction<Database>, code: string, locale: Locale, day: string): Promise<TemplateRow> {
  const template =
    (await templateInForce(db, code, locale, new Date(kazakhstanMidnight(day).getTime() + DAY_MS - 1))) ?? (await firstVersion(db, code, locale));
  if (!template) throw new PermanentError(`no ${code} template`);
  return template;
}

export function registrationsConsumer(deps: Deps): ConsumerSpec {
  return {
    name: 'consents-registrations',
    types: ['employee.registered', 'counterparty.registered', 'employment.ended'],
    async handle(trx, event) {
      const db = trx as Transaction<Database>;
      if (event.type === 'employment.ended') {
        // Art. 8(2): from now on the employee's Annex 1 consent may be withdrawn (withdrawal.ts).
        const { employmentId, endedOn } = (event as Envelope<'employment.ended'>).data;
        await db
          .insertInto('ended_purposes')
          .values({ code: PURPOSES.LABOUR_RELATIONS, reference: employmentId, ended_on: endedOn })
          .onConflict((oc) => oc.columns(['code', 'reference']).doNothing())
          .execute();
        return;
      }
      const employee = event.type === 'employee.registered';
      const data = employee ? (event as Envelope<'employee.registered'>).data : (event as Envelope<'counterparty.registered'>).data;
      const evidence = await deps.handoffs.open(trx, data.evidence, deps.config.extra.sealPrivateKey, evidenceSchema);
      if (!evidence) return;
      const code = employee ? 'ANNEX1_EMPLOYEE' : 'COUNTERPARTY_CONTRACT';
      const day = 'signedAt' in data ? data.signedAt : data.contractDate;
      const template = await signedVersion(db, code, data.locale, day);
      const channel = 'consentForm' in data ? data.consentForm : 'PAPER';
      const purpose = employee
        ? { code: PURPOSES.LABOUR_RELATIONS, reference: (data as Envelope<'employee.registered'>['data']).employmentId }
        : { code: PURPOSES.CONTRACT_PERFORMANCE, reference: (data as Envelope<'counterparty.registered'>['data']).contractId };
      await insertConsent(db, {
        id: data.consentId,
        templateCode: code,
        templateVersion: template.version,
        locale: data.locale,
        channel,
        givenAt: kazakhstanMidnight(day),
        ipEnc: null,
        userAgentEnc: null,
        documentEnc: deps.cipher.encrypt(evidence.document, { table: 'consents', column: 'document_enc', id: data.consentId }),
        enteredBy: event.actor.id,
        appealId: null,
        subjectId: data.subjectId,
        categories: [employee ? 'EMPLOYEE' : 'COUNTERPARTY'],
        purpose,
      });
      if ('obligations' in data) {
        const wording = new Map((evidence.obligations ?? []).map((o) => [o.id, o.description]));
        if (data.obligations.some((o) => !wording.has(o.id))) throw new PermanentError('hand-off does not hold every obligation of its event');
        await insertObligations(
          db,
          data.obligations.map((o) => ({
            id: o.id,
            consentId: data.consentId,
            descriptionEnc: deps.cipher.encrypt(wording.get(o.id)!, { table: 'obligations', column: 'description_enc', id: o.id }),
            dueDate: o.dueDate,
          })),
        );
      }
      await enqueueEvent(trx, deps.prefix, {
        ...eventHeader('consents', event, data.subjectId),
        type: 'consent.recorded',
        data: {
          consentId: data.consentId,
          templateCode: code,
          templateVersion: template.version,
          locale: data.locale,
          channel,
          appealId: null,
          thirdPartyTransfer: template.third_party_transfer,
          purpose: purpose.code,
          granted: true,
        },
      });
    },
  };
}
