import type { Deps } from '../config';
import { templateInForce } from '../db/consents.repository';
import { templatesInForce } from '../db/templates.repository';
import type { QueryResolvers } from '../generated/graphql';

/** Consent texts are public (PUBLIC reads them before ticking the box); no personal data. */
export function queryResolvers(deps: Deps): QueryResolvers {
  return {
    async consentTemplate(_, { code, locale }) {
      return (await templateInForce(deps.db, code, locale, new Date())) ?? null;
    },
    consentTemplates: (_, { locale }) => templatesInForce(deps.db, locale ?? null, new Date()),
  };
}
