import DataLoader from 'dataloader';
import type { Deps } from '../config';
import { entriesAt } from '../db/entries.repository';
import type { AuditEntryRecord } from '../domain/entry';
import { isOverdue } from '../domain/incident';
import { notifyBy as notifyByOf } from '../domain/incident';
import type { IncidentResolvers } from '../generated/graphql';
import type { IncidentRow } from '../db/tables';

/** Entries by seq for every incident of a response, in one query. */
export function entryLoader(deps: Deps): DataLoader<string, AuditEntryRecord | null> {
  return new DataLoader(async (seqs) => {
    const found = new Map((await entriesAt(deps.db, seqs)).map((e) => [e.seq, e]));
    return seqs.map((s) => found.get(s) ?? null);
  });
}

const iso = (d: Date | null) => d?.toISOString() ?? null;

export function incidentResolvers(deps: Deps): IncidentResolvers {
  // Incidents raised before deadlines were kept get theirs computed the same way.
  const notifyBy = (i: IncidentRow) => i.notify_by ?? notifyByOf(i.detected_at, deps.config.extra.notifyWorkingDays, deps.config.extra.calendar);
  return {
    actorId: (i) => i.actor_id,
    subjectId: (i) => i.subject_id,
    detectedAt: (i) => i.detected_at.toISOString(),
    details: (i) => JSON.stringify(i.details),
    status: (i) => i.status,
    notifyBy,
    overdue: (i) => isOverdue(i.status, notifyBy(i)),
    acknowledgedAt: (i) => iso(i.acknowledged_at),
    acknowledgedBy: (i) => i.acknowledged_by,
    reportedAt: (i) => iso(i.reported_at),
    reportedBy: (i) => i.reported_by,
    reference: (i) => i.reference,
    closedAt: (i) => iso(i.closed_at),
    closedBy: (i) => i.closed_by,
    closeNote: (i) => i.close_note,
    evidence: (i) => i.evidence,
    description: (i) => i.description,
    openedBy: (i) => i.opened_by,
    affectedSubjects: (i) => i.affected_subjects,
    categories: (i) => i.categories,
    breachReport: (i) => i.breach_report,
    async entries(i, _, ctx) {
      const found = await ctx.entries.loadMany(i.evidence);
      return found.filter((e): e is AuditEntryRecord => e !== null && !(e instanceof Error));
    },
  };
}
