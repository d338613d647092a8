import { kazakhstanToday, type ReportPeriod } from '@pdp/shared';
import type { Deps } from './config';
import { countByOperation, deniedAttempts, denialsFor, seqRangeOf } from './db/entries.repository';
import { incidentCounts, incidentsDetected } from './db/incidents.repository';
import type { AuditPart } from './domain/report';
import { reportedLate } from './domain/incident';
import { evidenceOf } from './evidence';

/** How many incidents a report lists one by one (all are counted). */
const LISTED_INCIDENTS = 500;

/**
 * The audit's part of the control report (7.2.4) for a period: operations by kind and denied attempts
 * (entries recorded in it — a range of seq), incidents detected in it and whether each was reported in
 * time, and a verification of the chain now (incremental: after the last verified checkpoint).
 */
export async function auditPart(deps: Deps, period: ReportPeriod): Promise<AuditPart> {
  const { db } = deps;
  const range = await seqRangeOf(db, period.start, period.end);
  const [operations, denied, ownIncident, counts, incidents, verification] = await Promise.all([
    range ? countByOperation(db, range.fromSeq!, range.toSeq!) : [],
    range ? deniedAttempts(db, range.fromSeq!, range.toSeq!) : 0,
    range ? denialsFor(db, 'OWN_INCIDENT', range.fromSeq!, range.toSeq!) : 0,
    incidentCounts(db, period.start, period.end, kazakhstanToday()),
    incidentsDetected(db, period.start, period.end, LISTED_INCIDENTS),
    evidenceOf(deps).verify(false),
  ]);
  return {
    from: period.from,
    to: period.to,
    operations,
    deniedAttempts: denied,
    ownIncidentRefusals: ownIncident,
    incidentsOpened: counts.opened,
    incidentsReportedLate: counts.late,
    incidents: incidents.map((i) => {
      const notifyBy = i.notify_by ?? i.detected_at.toISOString().slice(0, 10);
      return {
        id: i.id,
        rule: i.rule,
        status: i.status,
        detectedAt: i.detected_at.toISOString(),
        notifyBy,
        reportedAt: i.reported_at?.toISOString() ?? null,
        reportedInTime: !reportedLate({ status: i.status, notifyBy, reportedAt: i.reported_at }),
      };
    }),
    verification,
    generatedAt: new Date().toISOString(),
  };
}
