import type { Generated, Selectable } from 'kysely';
import type { PlatformTables } from '@pdp/shared';

export interface AppealsTable {
  id: string;
  reference: string;
  kind: string;
  status: string;
  channel: string;
  locale: string;
  /** Set when subjects has registered or found the applicant. */
  subject_id: string | null;
  /** AES-256-GCM ciphertexts. */
  phone_enc: string;
  email_enc: string;
  description_enc: string;
  submitted_at: Generated<Date>;
  deadline: string;
  updated_at: Generated<Date>;
}

export interface Database extends PlatformTables {
  appeals: AppealsTable;
}

export type AppealRow = Selectable<AppealsTable>;
