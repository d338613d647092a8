import type { Deps } from '../config';
import { templateInForce } from '../db/consents.repository';
import type { QueryResolvers } from '../generated/graphql';

export function queryResolvers(deps: Deps): QueryResolvers {
  return {
    async consentTemplate(_, { code, locale }) {
      const t = await templateInForce(deps.db, code, locale, new Date());
      return t
        ? { code: t.code, version: t.version, locale: t.locale as typeof locale, title: t.title, body: t.body, effectiveFrom: t.effective_from.toISOString() }
        : null;
    },
  };
}
