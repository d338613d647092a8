import type { RequestScope } from '@pdp/shared';
import type DataLoader from 'dataloader';
import type { SubjectRecord } from './domain/subject';

export interface Context extends RequestScope {
  subjects: DataLoader<string, SubjectRecord | null>;
}
