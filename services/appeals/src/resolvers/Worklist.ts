import { selects } from '@pdp/shared';
import type { GraphQLResolveInfo } from 'graphql';
import type { Deps } from '../config';
import type { AppealPage, AppealRecord } from '../domain/appeal';
import type { AppealConnectionResolvers, CreditorResolvers, PartnerAppealConnectionResolvers, PartnerAppealResolvers } from '../generated/graphql';
import { partnerAppeal } from '../worklist.service';

/** Whether the query asks for `totalCount` (then the page's query counts too), in a fragment or not. */
export function wantsTotal(info: GraphQLResolveInfo): boolean {
  return selects(info, ['totalCount']);
}

function connection(page: AppealPage) {
  return {
    edges: page.nodes.map((node, i) => ({ cursor: page.cursors[i]!, node })),
    pageInfo: { hasNextPage: page.hasNextPage, endCursor: page.cursors.at(-1) ?? null },
    totalCount: page.totalCount ?? 0,
  };
}

export function appealConnectionResolvers(): AppealConnectionResolvers {
  return {
    edges: (page) => connection(page).edges,
    pageInfo: (page) => connection(page).pageInfo,
    totalCount: (page) => page.totalCount ?? 0,
  };
}

export function partnerAppealConnectionResolvers(): PartnerAppealConnectionResolvers {
  return {
    edges: (page) => connection(page).edges,
    pageInfo: (page) => connection(page).pageInfo,
    totalCount: (page) => page.totalCount ?? 0,
  };
}

/** Only what was forwarded: every other field is null. The IIN is subjects' to give. */
export function partnerAppealResolvers(deps: Deps): PartnerAppealResolvers {
  const ifForwarded = (a: AppealRecord, field: 'PHONE' | 'EMAIL' | 'DESCRIPTION', enc: string | null, column: 'phone_enc' | 'email_enc' | 'description_enc') =>
    a.forwardedFields.includes(field) && enc ? deps.cipher.decrypt(enc, { table: 'appeals', column, id: a.id }) : null;
  return {
    __resolveReference: (ref, ctx) => partnerAppeal(deps, ctx, ref.id),
    reference: (a) => a.reference ?? '',
    forwardedAt: (a) => a.forwardedAt ?? '',
    phone: (a) => ifForwarded(a, 'PHONE', a.phoneEnc, 'phone_enc'),
    email: (a) => ifForwarded(a, 'EMAIL', a.emailEnc, 'email_enc'),
    description: (a) => ifForwarded(a, 'DESCRIPTION', a.descriptionEnc, 'description_enc'),
    response: (a) => (a.partnerResponseEnc ? deps.cipher.decrypt(a.partnerResponseEnc, { table: 'appeals', column: 'partner_response_enc', id: a.id }) : null),
  };
}

export function creditorResolvers(): CreditorResolvers {
  return {};
}
