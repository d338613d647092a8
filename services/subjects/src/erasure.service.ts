import { randomUUID } from 'node:crypto';
import { ConflictError, enqueueEvent, eventHeader, NotFoundError, parseInput, PD_HOLDERS, textSchema, type RequestScope } from '@pdp/shared';
import { z } from 'zod';
import type { Deps } from './config';
import * as repo from './db/erasure.repository';
import { canErase, type ErasureMethod } from './domain/lifecycle';
import { lockedSubject } from './subject-lock';

/** Erasure acts (4.6, 6.1.4): proposed by the DPO or the retention sweep, decided by the CHAIRMAN, carried out by every holder. */

export async function proposeErasure(
  deps: Deps,
  scope: RequestScope,
  subjectId: string,
  method: ErasureMethod,
  groundsRaw: string,
  automatic = false,
): Promise<string> {
  const { grounds } = parseInput(z.object({ grounds: textSchema(3, 4000) }), { grounds: groundsRaw }, scope.meta.locale);
  return deps.db.transaction().execute(async (trx) => {
    const subject = await lockedSubject(trx, scope, subjectId);
    if (!canErase(subject.status)) throw new ConflictError(scope.meta.locale, `SUBJECT_${subject.status}`, 'state.subjectStatus');
    const id = randomUUID();
    const inserted = await repo.insertAct(trx, { id, subjectId, method, grounds, automatic, proposedBy: scope.actor.id });
    if (!inserted) throw new ConflictError(scope.meta.locale, 'ERASURE_ACT_OPEN', 'state.actOpen');
    await enqueueEvent(trx, deps.prefix, { ...eventHeader('subjects', scope, subjectId), type: 'erasure.proposed', data: { actId: id, method, automatic } });
    return id;
  });
}

/** CHAIRMAN's decision (4.6). Approval fixes which holders must confirm and starts the erasure. */
export async function decideErasure(deps: Deps, scope: RequestScope, actId: string, approve: boolean, noteRaw: string | null): Promise<void> {
  const { note } = parseInput(z.object({ note: textSchema(1, 2000).nullable() }), { note: noteRaw }, scope.meta.locale);
  await deps.db.transaction().execute(async (trx) => {
    const act = await repo.lockAct(trx, actId);
    if (!act) throw new NotFoundError(scope.meta.locale, 'ErasureAct');
    if (act.status !== 'PROPOSED') throw new ConflictError(scope.meta.locale, `ACT_${act.status}`, 'state.actDecided');
    // Who proposed an act does not decide it (4.6: the Chairman's decision on the DPO's proposal), even holding both roles.
    if (act.proposed_by === scope.actor.id) throw new ConflictError(scope.meta.locale, 'OWN_PROPOSAL', 'state.actOwnProposal');
    const method = act.method as ErasureMethod;
    if (approve) {
      const services = [...PD_HOLDERS];
      await repo.decideAct(trx, actId, 'APPROVED', scope.actor.id, note, services);
      await enqueueEvent(trx, deps.prefix, { ...eventHeader('subjects', scope, act.subject_id), type: 'erasure.approved', data: { actId, method, services } });
    } else {
      await repo.decideAct(trx, actId, 'REJECTED', scope.actor.id, note, []);
      await enqueueEvent(trx, deps.prefix, { ...eventHeader('subjects', scope, act.subject_id), type: 'erasure.rejected', data: { actId } });
    }
  });
}

/** Proposes erasure for every subject whose purposes are achieved and whose retention term passed. */
export async function sweepRetention(deps: Deps): Promise<number> {
  const due = await repo.subjectsDueForErasure(deps.db, deps.config.extra.retentionDays, 500);
  const system: RequestScope = {
    actor: { id: 'system:retention', roles: ['DPO'], creditorId: null },
    meta: { requestId: randomUUID(), locale: 'RU', ip: null, userAgent: null },
  };
  let proposed = 0;
  for (const subjectId of due) {
    try {
      await proposeErasure(
        deps,
        system,
        subjectId,
        deps.config.extra.retentionMethod,
        `Retention term of ${deps.config.extra.retentionDays} days after all purposes were achieved has passed (clause 4.6)`,
        true,
      );
      proposed += 1;
    } catch (err) {
      if (!(err instanceof ConflictError)) throw err;
    }
  }
  return proposed;
}
