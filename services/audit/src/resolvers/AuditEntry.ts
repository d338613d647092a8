import type { AuditEntryResolvers } from '../generated/graphql';

export function auditEntryResolvers(): AuditEntryResolvers {
  return {
    details: (entry) => JSON.stringify(entry.details),
    outcome: (entry) => entry.outcome,
  };
}
