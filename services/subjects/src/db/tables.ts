import type { Generated, Insertable, Selectable } from 'kysely';
import type { PlatformTables } from '@pdp/shared';

export interface SubjectsTable {
  id: string;
  status: string;
  /** AES-256-GCM ciphertext of the IIN; null once depersonalized. */
  iin_enc: string | null;
  /** HMAC blind index of the IIN; null once depersonalized, so the same IIN makes a new subject. */
  iin_bidx: string | null;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export interface SubjectCategoriesTable {
  subject_id: string;
  category: string;
  created_at: Generated<Date>;
}

export interface SubjectSourcesTable {
  id: Generated<string>;
  subject_id: string;
  code: string;
  reference: string | null;
  collected_at: Generated<Date>;
}

export interface SubjectPurposesTable {
  id: Generated<string>;
  subject_id: string;
  code: string;
  reference: string | null;
  state: string;
  declared_at: Generated<Date>;
  achieved_at: Date | null;
}

export interface Database extends PlatformTables {
  subjects: SubjectsTable;
  subject_categories: SubjectCategoriesTable;
  subject_sources: SubjectSourcesTable;
  subject_purposes: SubjectPurposesTable;
}

export type SubjectRow = Selectable<SubjectsTable>;
export type NewSubject = Insertable<SubjectsTable>;
