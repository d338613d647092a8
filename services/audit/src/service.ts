import { readFileSync } from 'node:fs';
import { startService, type ServiceDefinition } from '@pdp/shared';
import { gql } from 'graphql-tag';
import type { AuditConfig, AuditExtra } from './config';
import type { Context } from './context';
import { migrations } from './db/migrations';
import type { Database } from './db/tables';
import { recorderConsumer } from './events/recorder';
import { auditEntryResolvers } from './resolvers/AuditEntry';
import { queryResolvers } from './resolvers/Query';
import { auditTrailLoader, subjectResolvers } from './resolvers/Subject';

export const typeDefs = gql(readFileSync(new URL('../schema.graphql', import.meta.url), 'utf8'));

export const auditService: ServiceDefinition<Database, AuditExtra, Context> = {
  name: 'audit',
  typeDefs,
  migrations,
  resolvers: (deps) => ({ Query: queryResolvers(deps), AuditEntry: auditEntryResolvers(), Subject: subjectResolvers() }) as never,
  consumers: () => [recorderConsumer()],
  // The audit log is paged by its sequence number, not a UUID.
  argumentRules: { ids: { 'Query.auditLog.afterSeq': 'seq' } },
  context: (deps, scope) => ({ ...scope, auditTrails: auditTrailLoader(deps, scope) }),
};

export function startAudit(config: AuditConfig) {
  return startService(auditService, config);
}

export type { AuditConfig } from './config';
export type { Database as AuditDatabase } from './db/tables';
