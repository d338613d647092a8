import { NotFoundError, type RequestScope } from '@pdp/shared';
import type { Deps } from '../config';
import { actsByIds, rectificationById, type ErasureActRow, type RectificationRow } from '../db/lifecycle.repository';

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
