import { ForbiddenError, coversCategories, coversPurpose, visibleCategories, type RequestScope } from '@pdp/shared';
import type { SubjectRecord } from '../domain/subject';
import type DataLoader from 'dataloader';
import type { Context } from '../context';
import type { Deps } from '../config';
import type { SubjectResolvers } from '../generated/graphql';

export function subjectResolvers(deps: Deps): SubjectResolvers {
  return {
    __resolveReference: (ref, ctx) => ctx.subjects.load(ref.id),
    // A role sees the categories its purpose covers, and only their purposes and sources (4.3, 4.4).
    categories: (subject, _, ctx) => visibleCategories(ctx.actor.roles, subject.categories),
    purposes: (subject, _, ctx) => visiblePurposes(ctx, subject),
    sources: (subject, _, ctx) => {
      const references = new Set(visiblePurposes(ctx, subject).map((p) => p.reference));
      return subject.sources.filter((s) => references.has(s.reference));
    },
    async iin(subject, _, ctx) {
      // The CHAIRMAN sees status, categories and holdings — never a PD value.
      await deps.guard.authorize(ctx, 'Subject.pd', subject.id);
      return subject.iinEncrypted ? deps.cipher.decrypt(subject.iinEncrypted, { table: 'subjects', column: 'iin_enc', id: subject.id }) : null;
    },
    async blockReceipts(subject, _, ctx) {
      const rows = await ctx.blockReceipts.load(subject.id);
      return rows.map((r) => ({ service: r.service, blocked: r.blocked, appliedAt: r.applied_at.toISOString() }));
    },
    erasureActs: (subject, _, ctx) => ctx.erasureActs.load(subject.id),
    rectifications: (subject, _, ctx) => ctx.rectifications.load(subject.id),
    employments: (subject, _, ctx) =>
      registrations(deps, ctx, subject.id, 'EMPLOYEE', ctx.employments, 'employment', ['fullName', 'position', 'consentDocument']),
    contracts: (subject, _, ctx) =>
      registrations(deps, ctx, subject.id, 'COUNTERPARTY', ctx.contracts, 'contract', ['fullName', 'contractNumber', 'obligations']),
    async blocks(subject, _, ctx) {
      await deps.guard.authorize(ctx, 'Subject.blocks', subject.id);
      const rows = await ctx.blocks.load(subject.id);
      return rows.map((b) => ({
        blockedAt: b.blocked_at.toISOString(),
        blockedBy: b.blocked_by,
        reason: b.reason,
        unblockedAt: b.unblocked_at?.toISOString() ?? null,
        unblockedBy: b.unblocked_by,
        unblockReason: b.unblock_reason,
      }));
    },
  };
}

/**
 * A subject's employments or contracts: PD of one category only, so a role reads them only when its
 * purpose covers that category (HR employees, CONTRACTS counterparties; DPO and AUDITOR all) — an
 * OPERATOR who may see an applicant never sees the same person's employment. Denials and reads are
 * recorded before anything is returned.
 */
async function registrations<T extends { id: string }>(
  deps: Deps,
  ctx: Context,
  subjectId: string,
  category: 'EMPLOYEE' | 'COUNTERPARTY',
  loader: DataLoader<string, T[]>,
  resource: string,
  fields: string[],
): Promise<T[]> {
  await deps.guard.authorize(ctx, 'Subject.pd', subjectId);
  if (!coversCategories(ctx.actor.roles, [category])) {
    await deps.guard.recordDenied(ctx, `Subject.${resource}s`, 'PURPOSE', subjectId);
    throw new ForbiddenError(ctx.meta.locale);
  }
  const rows = await loader.load(subjectId);
  if (rows.length > 0) await deps.guard.recordAccess(ctx, [{ subjectId, resource, resourceIds: rows.map((r) => r.id), fields }]);
  return rows;
}

function visiblePurposes(ctx: RequestScope, subject: SubjectRecord) {
  return subject.purposes.filter((p) => coversPurpose(ctx.actor.roles, p.code));
}
