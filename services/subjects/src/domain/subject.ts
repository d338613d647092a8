import type { SubjectCategory } from '@pdp/shared';

/** Subject categories of clause 3.1 (the permission table's `SUBJECT_CATEGORIES`). */
export type Category = SubjectCategory;

export type SubjectStatus = 'ACTIVE' | 'BLOCKED' | 'DEPERSONALIZED' | 'DESTROYED';

/** Web forms of Annexes 3–5, by the channel appeals reports. */
export const FORM_SOURCES: Record<string, string> = {
  'collectors.kz/appeal': 'WEB_FORM_ANNEX_3',
  'stop-collector.kz/complaint': 'WEB_FORM_ANNEX_4',
  'stop-collector.kz/schedule': 'WEB_FORM_ANNEX_5',
  PAPER: 'PAPER',
  IN_PERSON: 'IN_PERSON',
};

/** A forwarded appeal as appeals hands it over: only its key. */
export interface AppealRef {
  id: string;
}

export interface PurposeRecord {
  code: string;
  state: 'ACTIVE' | 'ACHIEVED';
  reference: string | null;
  declaredAt: string;
  achievedAt: string | null;
}

export interface SourceRecord {
  code: string;
  reference: string | null;
  collectedAt: string;
}

/** A subject as resolvers see it; the IIN stays encrypted until a field asks for it. */
export interface SubjectRecord {
  id: string;
  status: SubjectStatus;
  iinEncrypted: string | null;
  categories: Category[];
  purposes: PurposeRecord[];
  sources: SourceRecord[];
  registeredAt: string;
}
