import { BadUserInputError, ConflictError, enqueueEvents, eventHeader, parseInput, type RequestScope } from '@pdp/shared';
import type { Deps } from './config';
import { insertTemplate, latestVersion, newestOf, pairVersion } from './db/templates.repository';
import type { TemplateRow } from './db/tables';
import { publishInput, type ContentInput } from './domain/templates';

/**
 * DPO: a new version of a consent template in one language, approved by the Chairman's order (8.3)
 * and taking effect on its date. Kazakh and Russian versions are published together or not at all
 * (8.1): the first language's version waits (`both_languages` false, in force nowhere) until the
 * other's of the same number is published with the same order; then both take effect from the later
 * of their two dates. Every consent points at the exact version (code, version, language) the person
 * saw, so a new version changes no existing record.
 */
export async function publishTemplate(deps: Deps, scope: RequestScope, raw: Record<string, unknown>): Promise<TemplateRow> {
  const input = parseInput(publishInput, raw, scope.meta.locale);
  const locale = scope.meta.locale;
  return deps.db.transaction().execute(async (trx) => {
    const previous = await latestVersion(trx, input.code, input.locale);
    const otherLocale = input.locale === 'KK' ? 'RU' : 'KK';
    const other = await newestOf(trx, input.code, otherLocale);
    // This language already has a version waiting for the other's: that one is published first.
    if (previous && !previous.both_languages) throw new ConflictError(locale, 'TEMPLATE_AWAITING_PAIR', 'template.awaitingPair');
    if (previous && input.effectiveFrom < previous.effective_from) throw new BadUserInputError('effectiveFrom', 'template.effectiveOrder', locale);
    const version = (previous?.version ?? 0) + 1;
    const pairs = other !== undefined && other.version === version && !other.both_languages;
    if (pairs && (other.approval_order_number !== input.approvalOrder.number || other.approval_order_date !== input.approvalOrder.date)) {
      throw BadUserInputError.many([
        ...(other.approval_order_number !== input.approvalOrder.number ? [new BadUserInputError('approvalOrder.number', 'template.pairMismatch', locale)] : []),
        ...(other.approval_order_date !== input.approvalOrder.date ? [new BadUserInputError('approvalOrder.date', 'template.pairMismatch', locale)] : []),
      ]);
    }
    const content = input.content ?? (previous ? contentOf(previous) : null);
    if (!content) throw new BadUserInputError('content', 'text.required', locale);
    // Both languages take effect together: from the later of the two dates.
    const effectiveFrom = pairs && other.effective_from > input.effectiveFrom ? other.effective_from : input.effectiveFrom;
    const row = await insertTemplate(trx, {
      code: input.code,
      version,
      locale: input.locale,
      title: input.title,
      body: input.body,
      effective_from: effectiveFrom,
      purpose: content.purpose,
      data_items: content.dataItems,
      term: content.term,
      third_party_transfer: content.thirdPartyTransfer,
      cross_border_transfer: content.crossBorderTransfer,
      public_sources: content.publicSources,
      published_by: scope.actor.id,
      approval_order_number: input.approvalOrder.number,
      approval_order_date: input.approvalOrder.date,
      both_languages: pairs,
    });
    const paired = pairs ? await pairVersion(trx, input.code, version, otherLocale, effectiveFrom) : null;
    const events = [row, ...(paired ? [paired] : [])].map((t) => ({
      ...eventHeader('consents', scope),
      type: 'consent.template_published' as const,
      data: {
        code: t.code,
        version: t.version,
        locale: t.locale as 'KK' | 'RU',
        effectiveFrom: t.effective_from.toISOString(),
        approvalOrder: { number: input.approvalOrder.number, date: input.approvalOrder.date },
        bothLanguages: t.both_languages,
      },
    }));
    await enqueueEvents(trx, deps.prefix, events);
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
