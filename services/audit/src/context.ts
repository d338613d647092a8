import type { RequestScope } from '@pdp/shared';
import type DataLoader from 'dataloader';
import type { AuditEntryRecord } from './domain/entry';
import type { AuditPart } from './domain/report';

export interface Context extends RequestScope {
  auditTrails: DataLoader<string, AuditEntryRecord[]>;
  /** Entries by seq (an incident's evidence), one query per batch. */
  entries: DataLoader<string, AuditEntryRecord | null>;
  /** The audit's part of a control report, computed once per request and period. */
  reports: DataLoader<string, AuditPart>;
}
