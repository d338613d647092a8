import { BadUserInputError, enqueueEvent, eventHeader, parseInput, type RequestScope } from '@pdp/shared';
import type { Deps } from './config';
import { insertTemplate, latestVersion } from './db/templates.repository';
import type { TemplateRow } from './db/tables';
import { publishInput, type ContentInput } from './domain/templates';

/**
 * DPO: a new version of a consent template in one language, taking effect on its date. Every consent
 * points at the exact version (code, version, language) the person saw, so a new version changes no
 * existing record; consents given from its date on point at it.
 */
export async function publishTemplate(deps: Deps, scope: RequestScope, raw: Record<string, unknown>): Promise<TemplateRow> {
  const input = parseInput(publishInput, raw, scope.meta.locale);
  return deps.db.transaction().execute(async (trx) => {
    const previous = await latestVersion(trx, input.code, input.locale);
    if (previous && input.effectiveFrom < previous.effective_from) throw new BadUserInputError('effectiveFrom', 'template.effectiveOrder', scope.meta.locale);
    const content = input.content ?? (previous ? contentOf(previous) : null);
    if (!content) throw new BadUserInputError('content', 'text.required', scope.meta.locale);
    const row = await insertTemplate(trx, {
      code: input.code,
      version: (previous?.version ?? 0) + 1,
      locale: input.locale,
      title: input.title,
      body: input.body,
      effective_from: input.effectiveFrom,
      purpose: content.purpose,
      data_items: content.dataItems,
      term: content.term,
      third_party_transfer: content.thirdPartyTransfer,
      cross_border_transfer: content.crossBorderTransfer,
      public_sources: content.publicSources,
      published_by: scope.actor.id,
    });
    await enqueueEvent(trx, deps.prefix, {
      ...eventHeader('consents', scope),
      type: 'consent.template_published',
      data: { code: row.code, version: row.version, locale: input.locale, effectiveFrom: row.effective_from.toISOString() },
    });
    return row;
  });
}

/** The Art. 8(4) content of a version, as a new version inherits it. */
function contentOf(t: TemplateRow): ContentInput {
  return {
    purpose: t.purpose,
    dataItems: t.data_items,
    term: t.term,
    thirdPartyTransfer: t.third_party_transfer,
    crossBorderTransfer: t.cross_border_transfer,
    publicSources: t.public_sources,
  };
}
