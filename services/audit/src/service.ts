import { readFileSync } from 'node:fs';
import { startService, type ServiceDefinition } from '@pdp/shared';
import { gql } from 'graphql-tag';
import type { AuditConfig, AuditExtra, Deps } from './config';
import type { Context } from './context';
import { migrations } from './db/migrations';
import type { Database } from './db/tables';
import { evidenceOf } from './evidence';
import { recorderConsumer } from './events/recorder';
import { auditCheckpointResolvers } from './resolvers/AuditCheckpoint';
import { auditEntryResolvers } from './resolvers/AuditEntry';
import { controlReportResolvers, reportLoader } from './resolvers/ControlReport';
import { entryLoader, incidentResolvers } from './resolvers/Incident';
import { mutationResolvers } from './resolvers/Mutation';
import { incidentMetricsJob } from './incident-metrics';
import { queryResolvers } from './resolvers/Query';
import { auditTrailLoader, subjectResolvers } from './resolvers/Subject';

export const typeDefs = gql(readFileSync(new URL('../schema.graphql', import.meta.url), 'utf8'));

/** Periodic work: a checkpoint of the recorder's head every T seconds (if it moved), a full verification every H hours. */
function jobs(deps: Deps) {
  const { checkpointSeconds, fullVerifyHours } = deps.config.extra;
  const evidence = evidenceOf(deps);
  return [
    { name: 'audit-checkpoint', everyMs: checkpointSeconds * 1000, run: () => evidence.tick() },
    incidentMetricsJob(deps),
    ...(fullVerifyHours > 0
      ? [{ name: 'audit-full-verification', everyMs: fullVerifyHours * 3_600_000, run: async () => void (await evidence.verify(true)) }]
      : []),
  ];
}

export const auditService: ServiceDefinition<Database, AuditExtra, Context> = {
  name: 'audit',
  typeDefs,
  migrations,
  // 7.2.1: what the audit does with each of its tables, and nothing more (db-roles.ts). The log, the
  // checkpoints and the verification records are appended to and read, never changed or removed:
  // even a stolen runtime role cannot rewrite them (their triggers refuse it too, for the owner).
  tablePrivileges: {
    audit_log: ['SELECT', 'INSERT'],
    audit_checkpoints: ['SELECT', 'INSERT'],
    audit_verifications: ['SELECT', 'INSERT'],
    // An incident moves OPEN → ACKNOWLEDGED → REPORTED → CLOSED; it is never deleted.
    incidents: ['SELECT', 'INSERT', 'UPDATE'],
    // The reconciliation: each consumer's checked-through mark (upserted), and the stream positions
    // recorded until checked (removed once they are).
    audit_reconciliation: ['SELECT', 'INSERT', 'UPDATE'],
    audit_stream_seqs: ['SELECT', 'INSERT', 'DELETE'],
    // The platform's tables: the outbox is marked published and its hand-offs removed; the inbox is
    // only added to; a parked event is marked retried or resolved.
    outbox: ['SELECT', 'INSERT', 'UPDATE', 'DELETE'],
    inbox: ['SELECT', 'INSERT'],
    parked_events: ['SELECT', 'INSERT', 'UPDATE'],
    // Blocked subjects (the audit hides their entries from readers other than the DPO and auditors).
    blocked_subjects: ['SELECT', 'INSERT', 'DELETE'],
    block_versions: ['SELECT', 'INSERT', 'UPDATE'],
  },
  // The audit holds no personal data, so nothing encrypted (architecture.md).
  encryptedColumns: {},
  resolvers: (deps) =>
    ({
      Query: queryResolvers(deps),
      Mutation: mutationResolvers(deps),
      AuditEntry: auditEntryResolvers(),
      AuditCheckpoint: auditCheckpointResolvers(),
      Incident: incidentResolvers(deps),
      ControlReport: controlReportResolvers(),
      Subject: subjectResolvers(),
    }) as never,
  consumers: (deps) => [recorderConsumer(deps)],
  jobs,
  // The audit log is paged by its sequence number, and incidents are numbered, not UUIDs.
  argumentRules: {
    ids: {
      'Query.auditLog.afterSeq': 'seq',
      'Query.auditCheckpoints.afterSeq': 'seq',
      'Mutation.acknowledgeIncident.id': 'seq',
      'Mutation.reportIncident.id': 'seq',
      'Mutation.closeIncident.id': 'seq',
    },
  },
  context: (deps, scope) => ({ ...scope, auditTrails: auditTrailLoader(deps, scope), entries: entryLoader(deps), reports: reportLoader(deps, scope) }),
};

export function startAudit(config: AuditConfig) {
  return startService(auditService, config);
}

export type { AuditConfig } from './config';
export type { Database as AuditDatabase } from './db/tables';
export { checkpointKeys, generateCheckpointKey } from './domain/keys';
export type { AuditExtra } from './config';
