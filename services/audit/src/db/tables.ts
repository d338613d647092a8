import type { Generated, Selectable } from 'kysely';
import type { PlatformTables } from '@pdp/shared';

export interface AuditLogTable {
  seq: Generated<string>;
  event_id: string;
  event_type: string;
  operation: string;
  source: string;
  actor_id: string;
  actor_roles: string[];
  subject_id: string | null;
  correlation_id: string | null;
  occurred_at: Date;
  recorded_at: Generated<Date>;
  details: unknown;
  prev_hash: string;
  hash: string;
}

export interface IncidentsTable {
  id: Generated<string>;
  rule: string;
  actor_id: string;
  detected_at: Generated<Date>;
  details: unknown;
}

export interface Database extends PlatformTables {
  audit_log: AuditLogTable;
  incidents: IncidentsTable;
}

export type AuditLogRow = Selectable<AuditLogTable>;
