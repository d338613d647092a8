import { NotFoundError, type RequestScope } from '@pdp/shared';
import type { Context } from '../context';
import type { Deps } from '../config';
import type { SubjectRecord } from '../domain/subject';
import { actsByIds, type ErasureActRow } from '../db/erasure.repository';
import { rectificationById, type RectificationRow } from '../db/rectification.repository';

export async function loadAct(deps: Deps, scope: RequestScope, id: string): Promise<ErasureActRow> {
  const [act] = await actsByIds(deps.db, [id]);
  if (!act) throw new NotFoundError(scope.meta.locale, 'ErasureAct');
  return act;
}

export async function loadRectification(deps: Deps, scope: RequestScope, id: string): Promise<RectificationRow> {
  const row = await rectificationById(deps.db, id);
  if (!row) throw new NotFoundError(scope.meta.locale, 'RectificationRequest');
  return row;
}

/** A subject just changed by a mutation, read (and recorded) like any other read. */
export async function loadSubject(ctx: Context, id: string): Promise<SubjectRecord> {
  const subject = await ctx.subjects.load(id);
  if (!subject) throw new NotFoundError(ctx.meta.locale, 'Subject');
  return subject;
}
