import type { Generated, Insertable, Selectable } from 'kysely';
import type { EncryptedColumns, FieldEncryptionTable, PdHolder, PlatformTables } from '@pdp/shared';
import type { ErasureActStatus, ErasureMethod, RectificationStatus } from '../domain/lifecycle';
import type { Category, PurposeRecord, SubjectStatus } from '../domain/subject';

export interface SubjectsTable {
  id: string;
  status: SubjectStatus;
  /** AES-256-GCM ciphertext of the IIN; null once depersonalized. */
  iin_enc: string | null;
  /** HMAC blind index of the IIN; null once depersonalized, so the same IIN makes a new subject. */
  iin_bidx: string | null;
  /** How many times the subject was blocked or unblocked: the version its block events carry. */
  block_version: Generated<number>;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export interface SubjectCategoriesTable {
  subject_id: string;
  category: Category;
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
  state: PurposeRecord['state'];
  declared_at: Generated<Date>;
  achieved_at: Date | null;
}

export interface BlocksTable {
  id: Generated<string>;
  subject_id: string;
  reason: string;
  blocked_by: string;
  blocked_at: Generated<Date>;
  unblock_reason: string | null;
  unblocked_by: string | null;
  unblocked_at: Date | null;
}

export interface BlockReceiptsTable {
  subject_id: string;
  service: PdHolder;
  blocked: boolean;
  applied_at: Date;
  /** The block version the receipt answers; null for receipts written before versions. */
  version: number | null;
}

export interface ErasureActsTable {
  id: string;
  subject_id: string;
  method: ErasureMethod;
  status: ErasureActStatus;
  grounds: string;
  automatic: boolean;
  proposed_by: string;
  proposed_at: Generated<Date>;
  decided_by: string | null;
  decided_at: Date | null;
  decision_note: string | null;
  /** Services expected to confirm, fixed when the act is approved. */
  services: Generated<PdHolder[]>;
  completed_at: Date | null;
}

export interface ErasureReceiptsTable {
  act_id: string;
  service: PdHolder;
  completed_at: Date;
}

export interface RectificationRequestsTable {
  id: string;
  subject_id: string;
  field: string;
  /** The requested value, encrypted; the field's holder gets it sealed. */
  new_value_enc: string;
  documents: string[];
  status: RectificationStatus;
  requested_by: string;
  requested_at: Generated<Date>;
  deadline: string;
  reviewed_by: string | null;
  reviewed_at: Date | null;
  review_note: string | null;
  applied_at: Date | null;
}

export interface PartnerGrantsTable {
  appeal_id: string;
  creditor_id: string;
  subject_id: string;
  iin: boolean;
  granted_at: Date;
  revoked_at: Date | null;
}

/** An employee or job candidate registered by HR with the signed Annex 1 (3.1.1, 5.1). */
export interface EmploymentsTable {
  id: string;
  subject_id: string;
  /** The Annex 1 consent recorded in consents for this employment. */
  consent_id: string;
  /** AES-256-GCM ciphertexts; null once depersonalized. */
  full_name_enc: string | null;
  position_enc: string | null;
  signed_at: string;
  locale: string;
  registered_by: string;
  registered_at: Generated<Date>;
  ended_on: string | null;
  ended_by: string | null;
}

/** A counterparty (an individual of a contract) registered by CONTRACTS (3.1.2, 5.2). */
export interface ContractsTable {
  id: string;
  subject_id: string;
  consent_id: string;
  full_name_enc: string | null;
  contract_number_enc: string | null;
  contract_date: string;
  consent_form: string;
  /** The day a separate written consent was signed (SEPARATE_DOCUMENT); null for a contract clause. */
  consent_date: string | null;
  locale: string;
  registered_by: string;
  registered_at: Generated<Date>;
  /** When the contract ended (CONTRACT_PERFORMANCE achieved) and who recorded it. */
  ended_on: string | null;
  ended_by: string | null;
}

export interface Database extends PlatformTables {
  employments: EmploymentsTable;
  contracts: ContractsTable;
  partner_grants: PartnerGrantsTable;
  blocks: BlocksTable;
  block_receipts: BlockReceiptsTable;
  erasure_acts: ErasureActsTable;
  erasure_receipts: ErasureReceiptsTable;
  rectification_requests: RectificationRequestsTable;
  subjects: SubjectsTable;
  subject_categories: SubjectCategoriesTable;
  subject_sources: SubjectSourcesTable;
  subject_purposes: SubjectPurposesTable;
  field_encryption: FieldEncryptionTable;
}

export type SubjectRow = Selectable<SubjectsTable>;
export type NewSubject = Insertable<SubjectsTable>;
export type EmploymentRow = Selectable<EmploymentsTable>;
export type ContractRow = Selectable<ContractsTable>;

/**
 * Every encrypted column, named once: the cipher binds each value to its table, column and row, and
 * the re-encryption job brings these to the current format and key. The compiler checks that every
 * `*_enc` column of `Database` is here.
 */
export const ENCRYPTED_COLUMNS: EncryptedColumns<Database> = {
  subjects: { iin_enc: true },
  employments: { full_name_enc: true, position_enc: true },
  contracts: { full_name_enc: true, contract_number_enc: true },
  rectification_requests: { new_value_enc: true },
};
