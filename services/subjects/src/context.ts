import type { RequestScope } from '@pdp/shared';
import type DataLoader from 'dataloader';
import type { BlockReceiptsTable, BlocksTable, ContractRow, EmploymentRow, ErasureReceiptsTable } from './db/tables';
import type { ErasureActRow } from './db/erasure.repository';
import type { RectificationRow } from './db/rectification.repository';
import type { SubjectRecord } from './domain/subject';
import type { Selectable } from 'kysely';

export interface Context extends RequestScope {
  subjects: DataLoader<string, SubjectRecord | null>;
  blockReceipts: DataLoader<string, Selectable<BlockReceiptsTable>[]>;
  erasureActs: DataLoader<string, ErasureActRow[]>;
  actReceipts: DataLoader<string, Selectable<ErasureReceiptsTable>[]>;
  rectifications: DataLoader<string, RectificationRow[]>;
  blocks: DataLoader<string, Selectable<BlocksTable>[]>;
  employments: DataLoader<string, EmploymentRow[]>;
  contracts: DataLoader<string, ContractRow[]>;
  partnerIins: DataLoader<string, string | null>;
}
