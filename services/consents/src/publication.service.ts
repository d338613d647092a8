import { randomUUID } from 'node:crypto';
import { blockedAmong, enqueueEvent, eventHeader, NotFoundError, SubjectBlockedError, type RequestScope } from '@pdp/shared';
import { sql } from 'kysely';
import type { Deps } from './config';
import { categoriesOfSubject, insertConsent, standingOf, templateInForce } from './db/consents.repository';
import type { Locale } from './domain/consent';
import { applyWithdrawal } from './withdrawal.service';

const PUBLICATION = 'PUBLICATION';

/**
 * DPO records the subject's decision on publication in public sources (6.1.6): a grant or a refusal,
 * each a record pointing at the PUBLICATION text the person saw; no record means refused. The newest
 * decision stands — a grant that is replaced by a refusal is withdrawn like any consent (every holder
 * confirms), a refusal replaced by a grant is ended (WITHDRAWN: the person took the refusal back;
 * the grant's consent.recorded is the audit's record of it). The same decision again changes nothing.
 * Granting is refused while the subject is blocked; refusing never is. Returns the id of the decision
 * in force.
 */
export async function setPublicationConsent(deps: Deps, scope: RequestScope, subjectId: string, granted: boolean, locale: Locale): Promise<string> {
  return deps.db.transaction().execute(async (trx) => {
    // One decision at a time per subject.
    await sql`select pg_advisory_xact_lock(hashtext(${`publication:${subjectId}`}))`.execute(trx);
    const categories = await categoriesOfSubject(trx, subjectId);
    if (categories.length === 0) throw new NotFoundError(scope.meta.locale, 'Subject');
    if (granted && (await blockedAmong(trx, [subjectId])).size > 0) throw new SubjectBlockedError(scope.meta.locale);
    const [standing] = await standingOf(trx, subjectId, PUBLICATION);
    if (standing && standing.granted === granted) return standing.id;
    const now = new Date();
    // A grant replaced by a refusal is a withdrawal (every holder confirms); a refusal replaced by a
    // grant ends too — nothing was processed under it to stop — so one decision stands, not two ACTIVE.
    if (standing?.granted) await applyWithdrawal(deps, trx, scope, standing, null);
    else if (standing) await trx.updateTable('consents').set({ withdrawn_at: now, withdrawn_by: scope.actor.id }).where('id', '=', standing.id).execute();
    const template = await templateInForce(trx, PUBLICATION, locale, now);
    if (!template) throw new Error('no PUBLICATION template in force');
    const id = randomUUID();
    await insertConsent(trx, {
      id,
      templateCode: PUBLICATION,
      templateVersion: template.version,
      locale,
      channel: 'DPO',
      givenAt: now,
      ipEnc: null,
      userAgentEnc: null,
      documentEnc: null,
      enteredBy: scope.actor.id,
      appealId: null,
      subjectId,
      categories,
      purpose: null,
      granted,
    });
    await enqueueEvent(trx, deps.prefix, {
      ...eventHeader('consents', scope, subjectId),
      type: 'consent.recorded',
      data: {
        consentId: id,
        templateCode: PUBLICATION,
        templateVersion: template.version,
        locale,
        channel: 'DPO',
        appealId: null,
        thirdPartyTransfer: false,
        purpose: null,
        granted,
      },
    });
    return id;
  });
}
