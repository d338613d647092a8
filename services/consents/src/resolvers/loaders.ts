import { groupedLoader, type RequestScope } from '@pdp/shared';
import DataLoader from 'dataloader';
import type { Deps } from '../config';
import { consentsByIds, consentsBySubjects, receiptsOf } from '../db/consents.repository';
import { obligationsOf } from '../db/obligations.repository';
import { templateKey, templatesByKeys } from '../db/templates.repository';
import type { TemplateRow } from '../db/tables';
import type { ConsentRecord } from '../domain/consent';

const CONSENT_PD_FIELDS = ['template', 'givenAt', 'evidence', 'obligations', 'withdrawal'];

/**
 * Staff reads of consents: the role's row, no blocked subject's consents but for the DPO and the
 * audit, and only consents of the categories the role's purpose covers — an OPERATOR never reads an
 * employee's Annex 1, even of a person who also filed an appeal (PURPOSE-denied and recorded). One
 * query per batch, the access recorded before anything is returned.
 */
function scopedRead(deps: Deps, scope: RequestScope, operation: 'Consent.pd' | 'Subject.consents', load: () => Promise<ConsentRecord[]>) {
  return deps.guard.readHeld(scope, { operation, resource: 'consent', fields: CONSENT_PD_FIELDS, load, categoriesOf: (c) => c.categories });
}

/** Staff reads of consents by id: one query per batch (e.g. an `_entities` call). */
export function consentLoader(deps: Deps, scope: RequestScope): DataLoader<string, ConsentRecord | null> {
  return new DataLoader(async (ids) => {
    const found = await scopedRead(deps, scope, 'Consent.pd', () => consentsByIds(deps.db, ids));
    const byId = new Map(found.map((c) => [c.id, c]));
    return ids.map((id) => byId.get(id) ?? null);
  });
}

/** `Subject.consents` for every subject of an `_entities` call in one query. */
export function consentsOfSubjectLoader(deps: Deps, scope: RequestScope): DataLoader<string, ConsentRecord[]> {
  return groupedLoader(
    (subjectIds) => scopedRead(deps, scope, 'Subject.consents', () => consentsBySubjects(deps.db, subjectIds)),
    (c) => c.subjectId,
  );
}

/** What hangs off consents already read: texts (public), obligations and receipts, one query per batch. */
export function consentDetailLoaders(deps: Deps) {
  return {
    templates: new DataLoader<string, TemplateRow | null>(async (keys) => {
      const rows = new Map((await templatesByKeys(deps.db, keys)).map((t) => [templateKey(t.code, t.version, t.locale), t]));
      return keys.map((k) => rows.get(k) ?? null);
    }),
    obligations: groupedLoader(
      (ids) => obligationsOf(deps.db, ids),
      (o) => o.consent_id,
    ),
    withdrawalReceipts: groupedLoader(
      (ids) => receiptsOf(deps.db, ids),
      (r) => r.consent_id,
    ),
  };
}
