import { randomUUID } from 'node:crypto';
import { enqueueEvent, eventHeader, NotReadyError, type ConsumerSpec, type Envelope } from '@pdp/shared';
import type { Transaction } from 'kysely';
import { z } from 'zod';
import type { Deps } from '../config';
import { insertConsent, linkConsentToSubject, templateInForce } from '../db/consents.repository';
import type { Database } from '../db/tables';
import { PURPOSES } from '../domain/consent';

/**
 * Records the electronic consent given on a web form (clause 5.3): template, the version in force
 * when it was given, language, time, channel, and the evidence (IP, user agent) handed off to this
 * service; then attaches it to the subject once subjects has resolved who gave it. Evidence that is
 * gone (erased before it was read) leaves the consent without evidence, so the link still finds it.
 */
const evidenceSchema = z.object({
  ip: z.string().nullable(),
  userAgent: z.string().nullable(),
  /** The signed Annex 2's reference, for an appeal entered from paper or in person. */
  document: z.string().nullish(),
});
const PAPER_CHANNELS = new Set(['PAPER', 'IN_PERSON']);

export function intakeConsumer(deps: Deps): ConsumerSpec {
  return {
    name: 'consents-intake',
    types: ['appeal.submitted', 'subject.appeal_linked'],
    async handle(trx, event) {
      const db = trx as Transaction<Database>;
      if (event.type === 'appeal.submitted') {
        const { data } = event as Envelope<'appeal.submitted'>;
        const givenAt = new Date(data.consent.givenAt);
        const template = await templateInForce(db, data.consent.templateCode, data.locale, givenAt);
        if (!template) throw new Error(`no ${data.consent.templateCode} template in force`);
        const evidence = (await deps.handoffs.open(trx, data.consent.evidence, deps.config.extra.sealPrivateKey, evidenceSchema)) ?? {
          ip: null,
          userAgent: null,
        };
        const id = randomUUID();
        await insertConsent(db, {
          id,
          templateCode: template.code,
          templateVersion: template.version,
          locale: data.locale,
          channel: data.channel,
          givenAt,
          ipEnc: evidence.ip ? deps.cipher.encrypt(evidence.ip, { table: 'consents', column: 'ip_enc', id }) : null,
          userAgentEnc: evidence.userAgent ? deps.cipher.encrypt(evidence.userAgent, { table: 'consents', column: 'user_agent_enc', id }) : null,
          documentEnc: evidence.document ? deps.cipher.encrypt(evidence.document, { table: 'consents', column: 'document_enc', id }) : null,
          // For paper, the operator who typed it in; the web forms have no one in between.
          enteredBy: PAPER_CHANNELS.has(data.channel) ? event.actor.id : null,
          appealId: data.appealId,
          subjectId: null,
          categories: ['APPLICANT'],
          purpose: { code: PURPOSES.APPEAL_HANDLING, reference: data.appealId },
        });
        await enqueueEvent(trx, deps.prefix, {
          ...eventHeader('consents', event),
          type: 'consent.recorded',
          data: {
            consentId: id,
            templateCode: template.code,
            templateVersion: template.version,
            locale: data.locale,
            channel: data.channel,
            appealId: data.appealId,
            thirdPartyTransfer: template.third_party_transfer,
            purpose: PURPOSES.APPEAL_HANDLING,
            granted: true,
          },
        });
        return;
      }
      const { data, subjectId } = event as Envelope<'subject.appeal_linked'>;
      const consentId = await linkConsentToSubject(db, data.appealId, data.subjectId);
      // The link can overtake the submission after a redelivery: retry until the consent exists.
      if (!consentId) throw new NotReadyError('consent of the appeal not recorded yet');
      await enqueueEvent(trx, deps.prefix, {
        ...eventHeader('consents', event, subjectId),
        type: 'consent.subject_linked',
        data: { consentId, appealId: data.appealId },
      });
    },
  };
}
