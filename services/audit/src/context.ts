import type { RequestScope } from '@pdp/shared';
import type DataLoader from 'dataloader';
import type { AuditEntryRecord } from './domain/entry';

export interface Context extends RequestScope {
  auditTrails: DataLoader<string, AuditEntryRecord[]>;
}
