import type { Deps } from '../config';
import * as access from '../access.service';
import type {
  AccessGrantConnectionResolvers,
  AccessGrantResolvers,
  CreditorResolvers,
  MeResolvers,
  MutationResolvers,
  QueryResolvers,
} from '../generated/graphql';
import { wantsTotal } from './Worklist';

/** The access registry's root fields (access.ts does the work; the permission table guards each). */
export function accessQueryResolvers(deps: Deps): Pick<QueryResolvers, 'me' | 'accessGrants' | 'accessList'> {
  return {
    me: (_, __, ctx) => access.me(deps, ctx),
    accessGrants: (_, args, ctx, info) => access.accessGrants(deps, ctx, args, wantsTotal(info)),
    accessList: (_, { on }, ctx) => access.accessList(deps, ctx, on),
  };
}

export function accessMutationResolvers(deps: Deps): Pick<MutationResolvers, 'grantAccess' | 'revokeAccess' | 'suspendCreditor' | 'resumeCreditor'> {
  return {
    grantAccess: (_, { input }, ctx) => access.grantAccess(deps, ctx, input),
    revokeAccess: (_, { grantId, reason }, ctx) => access.revokeAccess(deps, ctx, grantId, reason),
    suspendCreditor: (_, { creditorId, reason }, ctx) => access.suspendCreditor(deps, ctx, creditorId, reason),
    resumeCreditor: (_, { creditorId, reason }, ctx) => access.resumeCreditor(deps, ctx, creditorId, reason),
  };
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export function accessGrantResolvers(deps: Deps): AccessGrantResolvers {
  return {
    displayName: (g) => deps.cipher.decrypt(g.display_name_enc, { table: 'access_grants', column: 'display_name_enc', id: g.id }),
    creditor: (g, _, ctx) => (g.creditor_id ? ctx.creditors.load(g.creditor_id) : null),
    grantedBy: (g) => g.granted_by,
    grantedAt: (g) => g.granted_at.toISOString(),
    revokedAt: (g) => iso(g.revoked_at),
    revokedBy: (g) => g.revoked_by,
    revokeReason: (g) => g.revoke_reason,
  };
}

export function accessGrantConnectionResolvers(): AccessGrantConnectionResolvers {
  return {
    edges: (page) => page.nodes.map((node, i) => ({ cursor: page.cursors[i]!, node })),
    pageInfo: (page) => ({ hasNextPage: page.hasNextPage, endCursor: page.cursors.at(-1) ?? null }),
    totalCount: (page) => page.totalCount ?? 0,
  };
}

export function meResolvers(): MeResolvers {
  return {
    creditor: (me, _, ctx) => (me.creditorId ? ctx.creditors.load(me.creditorId) : null),
  };
}

/** A creditor's open suspension, batched per request. */
export function creditorResolvers(): CreditorResolvers {
  return {
    suspendedAt: async (c, _, ctx) => iso((await ctx.suspensions.load(c.id))?.suspended_at ?? null),
    suspendReason: async (c, _, ctx) => (await ctx.suspensions.load(c.id))?.reason ?? null,
  };
}
