import type { RequestScope } from '@pdp/shared';
import type DataLoader from 'dataloader';
import type { ObligationRow, TemplateRow, WithdrawalReceiptRow } from './db/tables';
import type { ConsentRecord } from './domain/consent';

export interface Context extends RequestScope {
  consents: DataLoader<string, ConsentRecord | null>;
  consentsOfSubject: DataLoader<string, ConsentRecord[]>;
  templates: DataLoader<string, TemplateRow | null>;
  obligations: DataLoader<string, ObligationRow[]>;
  withdrawalReceipts: DataLoader<string, WithdrawalReceiptRow[]>;
}
