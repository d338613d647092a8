import type { RequestScope } from '@pdp/shared';
import type DataLoader from 'dataloader';
import type { ConsentRecord } from './domain/consent';

export interface Context extends RequestScope {
  consents: DataLoader<string, ConsentRecord | null>;
  consentsOfSubject: DataLoader<string, ConsentRecord[]>;
}
