import { UUID_PATTERN, type RequestScope } from '@pdp/shared';
import DataLoader from 'dataloader';
import type { Deps } from '../config';
import type { PartnerAppealResolvers } from '../generated/graphql';

/**
 * The IINs of a page of forwarded appeals in one query: only those forwarded to the caller's own
 * creditor with the IIN, not revoked by a withdrawal, of a subject still ACTIVE (not blocked, not
 * erased); each read recorded as a TRANSFER with the creditor before the values are returned.
 */
export function partnerIinLoader(deps: Deps, scope: RequestScope): DataLoader<string, string | null> {
  return new DataLoader(async (appealIds) => {
    await deps.guard.authorize(scope, 'PartnerAppeal.iin');
    const creditorId = scope.actor.creditorId;
    if (!creditorId || !UUID_PATTERN.test(creditorId)) return appealIds.map(() => null);
    const rows = await deps.db
      .selectFrom('partner_grants as g')
      .innerJoin('subjects as s', 's.id', 'g.subject_id')
      .select(['g.appeal_id', 'g.subject_id', 's.iin_enc'])
      .where('g.appeal_id', 'in', [...appealIds])
      .where('g.creditor_id', '=', creditorId)
      .where('g.iin', '=', true)
      .where('g.revoked_at', 'is', null)
      .where('s.status', '=', 'ACTIVE')
      .execute();
    // Opened first, so a value that does not open (moved or tampered) fails its own field only and
    // is not recorded as transferred.
    const byAppeal = new Map(rows.map((r) => [r.appeal_id, openIin(deps, r.subject_id, r.iin_enc)]));
    const opened = rows.filter((r) => !(byAppeal.get(r.appeal_id) instanceof Error));
    await deps.guard.recordAccess(
      scope,
      opened.map((r) => ({ subjectId: r.subject_id, resource: 'partner_appeal', resourceIds: [r.appeal_id], fields: ['iin'], operation: 'TRANSFER' as const })),
    );
    return appealIds.map((id) => byAppeal.get(id) ?? null);
  });
}

function openIin(deps: Deps, subjectId: string, iinEnc: string | null): string | null | Error {
  try {
    return iinEnc ? deps.cipher.decrypt(iinEnc, { table: 'subjects', column: 'iin_enc', id: subjectId }) : null;
  } catch (err) {
    return err as Error;
  }
}

export function partnerAppealResolvers(): PartnerAppealResolvers {
  return {
    __resolveReference: (ref) => ({ id: ref.id }),
    iin: (appeal, _, ctx) => ctx.partnerIins.load(appeal.id),
  };
}
