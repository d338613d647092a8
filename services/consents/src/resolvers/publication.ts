import type { ConsentRecord } from '../domain/consent';

/** The decision in force: the newest PUBLICATION record that stands; none means refused (6.1.6). */
export function publicationOf(consents: readonly Pick<ConsentRecord, 'id' | 'templateCode' | 'withdrawnAt' | 'givenAt' | 'granted'>[]) {
  const standing = consents.filter((c) => c.templateCode === 'PUBLICATION' && !c.withdrawnAt).sort((a, b) => b.givenAt.localeCompare(a.givenAt))[0];
  return standing ? { granted: standing.granted, consentId: standing.id, decidedAt: standing.givenAt } : { granted: false, consentId: null, decidedAt: null };
}
