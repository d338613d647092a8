import type { Generated, Selectable } from 'kysely';
import type { EncryptedColumns, FieldEncryptionTable, HolderTables, PlatformTables, Role } from '@pdp/shared';

export interface AppealsTable {
  id: string;
  /** Null once depersonalized. */
  reference: string | null;
  kind: string;
  status: string;
  channel: string;
  locale: string;
  /** Set when subjects has registered or found the applicant. */
  subject_id: string | null;
  /** AES-256-GCM ciphertexts. */
  phone_enc: string | null;
  email_enc: string | null;
  description_enc: string | null;
  depersonalized_at: Date | null;
  submitted_at: Generated<Date>;
  deadline: string;
  updated_at: Generated<Date>;
  /** Staff member who entered a paper or in-person appeal. */
  entered_by: string | null;
  /** Blind index of the applicant's IIN for `appealStatus`; null once erased. */
  iin_bidx: string | null;
  assignee: string | null;
  answer_enc: string | null;
  answered_at: Date | null;
  forwarded_to: string | null;
  forwarded_fields: string[] | null;
  forwarded_at: Date | null;
  partner_response_enc: string | null;
  partner_responded_at: Date | null;
}

export interface CreditorsTable {
  id: string;
  bin: string;
  name: string;
  country: string;
  registered_by: string;
  registered_at: Generated<Date>;
}

/** A projection of consents' events: which consents allow transfer to third parties, and whether they still stand. */
export interface TransferConsentsTable {
  consent_id: string;
  appeal_id: string | null;
  subject_id: string | null;
  allows_transfer: boolean;
  withdrawn_at: Date | null;
}

export interface AppealChangesTable {
  id: Generated<string>;
  appeal_id: string;
  status: string;
  note_enc: string | null;
  changed_by: string;
  changed_at: Generated<Date>;
}

export interface ContactHistoryTable {
  id: Generated<string>;
  appeal_id: string;
  field: string;
  previous_enc: string | null;
  request_id: string;
  changed_at: Generated<Date>;
}

/** The access registry (Law Art. 25(3)): one row per grant, closed (never deleted) when revoked or replaced. */
export interface AccessGrantsTable {
  id: string;
  account: string;
  display_name_enc: string;
  roles: Role[];
  creditor_id: string | null;
  reason: string;
  granted_by: string;
  granted_at: Generated<Date>;
  revoked_at: Date | null;
  revoked_by: string | null;
  revoke_reason: string | null;
  version: Generated<string>;
}

/** A creditor's suspension: its partner accounts may do nothing but `me` until it is resumed. */
export interface CreditorSuspensionsTable {
  id: string;
  creditor_id: string;
  reason: string;
  suspended_by: string;
  suspended_at: Generated<Date>;
  resumed_at: Date | null;
  resumed_by: string | null;
  resume_reason: string | null;
  version: Generated<string>;
}

export interface Database extends PlatformTables, HolderTables {
  access_grants: AccessGrantsTable;
  creditor_suspensions: CreditorSuspensionsTable;
  appeals: AppealsTable;
  contact_history: ContactHistoryTable;
  appeal_changes: AppealChangesTable;
  creditors: CreditorsTable;
  transfer_consents: TransferConsentsTable;
  field_encryption: FieldEncryptionTable;
}

export type AppealRow = Selectable<AppealsTable>;

/**
 * Every encrypted column, named once: the cipher binds each value to its table, column and row, and
 * the re-encryption job brings these to the current format and key. The compiler checks that every
 * `*_enc` column of `Database` is here.
 */
export const ENCRYPTED_COLUMNS: EncryptedColumns<Database> = {
  appeals: { phone_enc: true, email_enc: true, description_enc: true, answer_enc: true, partner_response_enc: true },
  appeal_changes: { note_enc: true },
  contact_history: { previous_enc: true },
  access_grants: { display_name_enc: true },
};
