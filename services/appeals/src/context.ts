import type { RequestScope } from '@pdp/shared';
import type DataLoader from 'dataloader';
import type { AppealRecord } from './domain/appeal';

export interface Context extends RequestScope {
  appeals: DataLoader<string, AppealRecord | null>;
  appealsOfSubject: DataLoader<string, AppealRecord[]>;
}
