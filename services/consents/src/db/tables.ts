import type { Generated, Selectable } from 'kysely';
import type { BlockedSubjectsTable, PlatformTables } from '@pdp/shared';

export interface ConsentTemplatesTable {
  code: string;
  version: number;
  locale: string;
  title: string;
  body: string;
  effective_from: Date;
}

export interface ConsentsTable {
  id: string;
  /** Null until subjects tells which subject gave it (intake consents arrive before that). */
  subject_id: string | null;
  template_code: string;
  template_version: number;
  locale: string;
  channel: string;
  given_at: Date;
  /** AES-256-GCM ciphertexts of the evidence. */
  ip_enc: string | null;
  user_agent_enc: string | null;
  /** A paper consent's document reference (encrypted) and the operator who entered it. */
  document_enc: string | null;
  entered_by: string | null;
  appeal_id: string | null;
  withdrawn_at: Date | null;
  created_at: Generated<Date>;
  depersonalized_at: Date | null;
}

export interface Database extends PlatformTables {
  consent_templates: ConsentTemplatesTable;
  consents: ConsentsTable;
  blocked_subjects: BlockedSubjectsTable;
}

export type ConsentRow = Selectable<ConsentsTable>;
export type TemplateRow = Selectable<ConsentTemplatesTable>;
