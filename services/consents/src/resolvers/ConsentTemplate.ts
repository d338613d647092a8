import type { Deps } from '../config';
import type { Locale } from '../domain/consent';
import type { ConsentTemplateResolvers } from '../generated/graphql';

/** A template version as stored, with the operator Art. 8(4) requires every consent to name. */
export function consentTemplateResolvers(deps: Deps): ConsentTemplateResolvers {
  const { operator } = deps.config.extra;
  return {
    locale: (t) => t.locale as Locale,
    effectiveFrom: (t) => t.effective_from.toISOString(),
    operatorName: (t) => operator.name[t.locale as Locale],
    operatorBin: () => operator.bin,
    dataItems: (t) => t.data_items,
    thirdPartyTransfer: (t) => t.third_party_transfer,
    crossBorderTransfer: (t) => t.cross_border_transfer,
    publicSources: (t) => t.public_sources,
    approvalOrder: (t) => (t.approval_order_number && t.approval_order_date ? { number: t.approval_order_number, date: t.approval_order_date } : null),
    bothLanguages: (t) => t.both_languages,
  };
}
