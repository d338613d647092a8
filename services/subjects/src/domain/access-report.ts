import { COLLECTION_METHODS } from './lifecycle';
import type { SubjectRecord } from './subject';

/** Data items the subjects service keeps about a person, as the access report lists them. */
export const SUBJECTS_DATA_ITEMS = ['IIN (encrypted)', 'subject categories', 'sources of data', 'purposes of processing', 'blocking history', 'rectification requests'];

export function storagePeriod(retentionDays: number): string {
  return `Until every purpose of processing is achieved, then ${retentionDays} days; then destroyed or depersonalized by the Chairman's decision (clause 4.6).`;
}

export function collectionMethods(subject: SubjectRecord): string[] {
  return [...new Set(subject.sources.map((s) => COLLECTION_METHODS[s.code] ?? s.code))];
}
