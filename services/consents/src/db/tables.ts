import type { Generated, Selectable } from 'kysely';
import type { EncryptedColumns, FieldEncryptionTable, HolderTables, PlatformTables } from '@pdp/shared';

export interface ConsentTemplatesTable {
  code: string;
  version: number;
  locale: string;
  title: string;
  body: string;
  effective_from: Date;
  /** Art. 8(4) of the Law, in this version's language. */
  purpose: string;
  data_items: string[];
  term: string;
  third_party_transfer: boolean;
  cross_border_transfer: boolean;
  public_sources: boolean;
  published_by: string | null;
  published_at: Generated<Date>;
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
  /** The subject categories the consent concerns (who may read it, 4.3–4.4). */
  categories: string[];
  /** The purpose (3.2) it serves and what for (appeal, employment or contract id). */
  purpose_code: string | null;
  purpose_reference: string | null;
  /** False for a recorded refusal (publication, 6.1.6). */
  granted: Generated<boolean>;
  withdrawn_by: string | null;
  /** The DPO's note of the subject's request, encrypted. */
  withdrawal_reason_enc: string | null;
}

export interface ObligationsTable {
  id: string;
  consent_id: string;
  /** Encrypted; null once depersonalized. */
  description_enc: string | null;
  due_date: string;
  fulfilled_at: Date | null;
  fulfilled_by: string | null;
}

export interface WithdrawalReceiptsTable {
  consent_id: string;
  service: string;
  applied_at: Date;
}

export interface Database extends PlatformTables, HolderTables {
  consent_templates: ConsentTemplatesTable;
  consents: ConsentsTable;
  obligations: ObligationsTable;
  withdrawal_receipts: WithdrawalReceiptsTable;
  field_encryption: FieldEncryptionTable;
  ended_purposes: EndedPurposesTable;
}

/** A purpose subjects reported ended (an employment's end): Annex 1 may be withdrawn only after it (Art. 8(2)). */
export interface EndedPurposesTable {
  code: string;
  reference: string;
  ended_on: string;
  recorded_at: Generated<Date>;
}

export type ConsentRow = Selectable<ConsentsTable>;
export type TemplateRow = Selectable<ConsentTemplatesTable>;
export type ObligationRow = Selectable<ObligationsTable>;
export type WithdrawalReceiptRow = Selectable<WithdrawalReceiptsTable>;

/**
 * Every encrypted column, named once: the cipher binds each value to its table, column and row, and
 * the re-encryption job brings these to the current format and key. The compiler checks that every
 * `*_enc` column of `Database` is here.
 */
export const ENCRYPTED_COLUMNS: EncryptedColumns<Database> = {
  consents: { ip_enc: true, user_agent_enc: true, document_enc: true, withdrawal_reason_enc: true },
  obligations: { description_enc: true },
};
