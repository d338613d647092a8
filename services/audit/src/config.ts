import { z } from 'zod';
import type { ServiceConfig, ServiceDeps } from '@pdp/shared';
import type { Database } from './db/tables';

export const auditEnv = z.object({});
export type AuditExtra = Record<string, never>;
export type AuditConfig = ServiceConfig<AuditExtra>;
export type Deps = ServiceDeps<Database, AuditExtra>;
