import { checkpointNote } from '../domain/chain';
import type { AuditCheckpointResolvers } from '../generated/graphql';

export function auditCheckpointResolvers(): AuditCheckpointResolvers {
  return {
    note: (cp) => checkpointNote(cp),
  };
}
