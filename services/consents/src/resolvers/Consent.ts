import { PD_HOLDERS } from '@pdp/shared';
import type { Deps } from '../config';
import { templateKey } from '../db/templates.repository';
import { consentStatus, type ConsentRecord } from '../domain/consent';
import type { ConsentResolvers } from '../generated/graphql';

export function consentResolvers(deps: Deps): ConsentResolvers {
  const open = (value: string | null, consent: ConsentRecord, column: 'ip_enc' | 'user_agent_enc' | 'document_enc' | 'withdrawal_reason_enc') =>
    value ? deps.cipher.decrypt(value, { table: 'consents', column, id: consent.id }) : null;
  return {
    __resolveReference: (ref, ctx) => ctx.consents.load(ref.id),
    status: (consent) => consentStatus(consent),
    evidence: (consent) => ({
      ip: open(consent.ipEnc, consent, 'ip_enc'),
      userAgent: open(consent.userAgentEnc, consent, 'user_agent_enc'),
      document: open(consent.documentEnc, consent, 'document_enc'),
      enteredBy: consent.enteredBy,
    }),
    async template(consent, _, ctx) {
      const template = await ctx.templates.load(templateKey(consent.templateCode, consent.templateVersion, consent.locale));
      if (!template) throw new Error('consent points at a template version that does not exist');
      return template;
    },
    purpose: (consent) => consent.purposeCode,
    document: (consent) => open(consent.documentEnc, consent, 'document_enc'),
    obligations: (consent, _, ctx) => ctx.obligations.load(consent.id),
    withdrawalReason: (consent) => open(consent.withdrawalReasonEnc, consent, 'withdrawal_reason_enc'),
    async withdrawalReceipts(consent, _, ctx) {
      if (!consent.withdrawnAt) return [];
      const got = await ctx.withdrawalReceipts.load(consent.id);
      // Every holder appears; appliedAt stays null until its receipt arrives.
      return PD_HOLDERS.map((service) => ({ service, appliedAt: got.find((r) => r.service === service)?.applied_at.toISOString() ?? null }));
    },
  };
}
