import type { RequestScope } from '@pdp/shared';
import type DataLoader from 'dataloader';
import type { AppealChangeRow } from './db/appeals.repository';
import type { SuspensionRow } from './db/access.repository';
import type { CreditorRow } from './db/worklist.repository';
import type { AppealRecord } from './domain/appeal';

export interface Context extends RequestScope {
  appeals: DataLoader<string, AppealRecord | null>;
  appealsOfSubject: DataLoader<string, AppealRecord[]>;
  appealHistory: DataLoader<AppealRecord, AppealChangeRow[], string>;
  creditors: DataLoader<string, CreditorRow | null>;
  /** A creditor's open suspension, if any. */
  suspensions: DataLoader<string, SuspensionRow | null>;
}
