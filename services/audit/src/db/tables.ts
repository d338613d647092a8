import type { Generated, Selectable } from 'kysely';
import type { HolderTables, PlatformTables } from '@pdp/shared';

export interface AuditLogTable {
  seq: string;
  hash_version: number;
  event_id: string;
  event_type: string;
  operation: string;
  source: string;
  actor_id: string;
  actor_roles: string[];
  creditor_id: string | null;
  purpose: string | null;
  /** ALLOWED or DENIED; null on version-1 entries (derived from the operation). */
  outcome: string | null;
  client_key: string | null;
  resource: string | null;
  resource_ids: string[] | null;
  fields: string[] | null;
  subject_id: string | null;
  correlation_id: string | null;
  occurred_at: Date;
  recorded_at: Date;
  details: unknown;
  prev_hash: string;
  hash: string;
  /** On the last entry of each append: the recorder's signature of the new head (a checkpoint note). */
  head_key_id: string | null;
  head_signature: string | null;
}

export interface CheckpointsTable {
  seq: string;
  origin: string;
  hash: string;
  signed_at: Date;
  key_id: string;
  signature: string;
}

export interface VerificationsTable {
  id: Generated<string>;
  verified_at: Date;
  full_run: boolean;
  valid: boolean;
  entries_checked: string;
  head_seq: string;
  through_seq: string | null;
  through_hash: string | null;
  first_invalid_seq: string | null;
  reason: string | null;
  key_id: string;
  signature: string;
}

export interface IncidentsTable {
  id: Generated<string>;
  rule: string;
  actor_id: string;
  detected_at: Generated<Date>;
  details: unknown;
  status: Generated<string>;
  incident_key: string | null;
  subject_id: string | null;
  evidence: Generated<string[]>;
  notify_by: string | null;
  acknowledged_at: Date | null;
  acknowledged_by: string | null;
  reported_at: Date | null;
  reported_by: string | null;
  reference: string | null;
  closed_at: Date | null;
  closed_by: string | null;
  close_note: string | null;
}

export interface StreamSeqsTable {
  stream_seq: string;
}

export interface ReconciliationTable {
  consumer: string;
  through_seq: string;
  updated_at: Generated<Date>;
}

export interface Database extends PlatformTables, HolderTables {
  audit_log: AuditLogTable;
  audit_checkpoints: CheckpointsTable;
  audit_verifications: VerificationsTable;
  incidents: IncidentsTable;
  audit_stream_seqs: StreamSeqsTable;
  audit_reconciliation: ReconciliationTable;
}

export type IncidentRow = Selectable<IncidentsTable>;
export type VerificationRow = Selectable<VerificationsTable>;
