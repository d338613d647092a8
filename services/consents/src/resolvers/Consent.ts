import type { Deps } from '../config';
import { consentStatus } from '../domain/consent';
import type { ConsentResolvers } from '../generated/graphql';

export function consentResolvers(deps: Deps): ConsentResolvers {
  return {
    __resolveReference: (ref, ctx) => ctx.consents.load(ref.id),
    status: (consent) => consentStatus(consent),
    evidence: (consent) => ({
      ip: consent.ipEnc ? deps.cipher.decrypt(consent.ipEnc) : null,
      userAgent: consent.userAgentEnc ? deps.cipher.decrypt(consent.userAgentEnc) : null,
      document: consent.documentEnc ? deps.cipher.decrypt(consent.documentEnc) : null,
      enteredBy: consent.enteredBy,
    }),
  };
}
