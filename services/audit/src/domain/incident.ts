import { addWorkingDays, kazakhstanToday, type WorkCalendar } from '@pdp/shared';

/**
 * An incident's lifecycle (clause 7.2.2) and its breach-notification deadline: the authorized body is
 * notified within one working day of detection (Law 94-V as amended by Law 44-VIII; Order 481), on the
 * Kazakhstan calendar. OPEN → ACKNOWLEDGED → REPORTED → CLOSED; reporting at once from OPEN is allowed
 * (it acknowledges too), and a DPO may close an acknowledged incident that was no breach, with a note.
 */
export const INCIDENT_STATUSES = ['OPEN', 'ACKNOWLEDGED', 'REPORTED', 'CLOSED'] as const;
export type IncidentStatus = (typeof INCIDENT_STATUSES)[number];

export type IncidentAction = 'acknowledge' | 'report' | 'close';

const ALLOWED: Record<IncidentAction, { from: readonly IncidentStatus[]; to: IncidentStatus }> = {
  acknowledge: { from: ['OPEN'], to: 'ACKNOWLEDGED' },
  report: { from: ['OPEN', 'ACKNOWLEDGED'], to: 'REPORTED' },
  close: { from: ['ACKNOWLEDGED', 'REPORTED'], to: 'CLOSED' },
};

/** The status after `action`, or null when the current status does not allow it. */
export function transition(from: IncidentStatus, action: IncidentAction): IncidentStatus | null {
  const rule = ALLOWED[action];
  return rule.from.includes(from) ? rule.to : null;
}

/** The last day (YYYY-MM-DD, Kazakhstan) on which the breach must be reported. */
export function notifyBy(detectedAt: Date, workingDays: number, calendar: WorkCalendar): string {
  return addWorkingDays(detectedAt, workingDays, calendar).toISOString().slice(0, 10);
}

/** Still to be reported and past its day. */
export function isOverdue(status: string, notifyByDate: string, now: Date = new Date()): boolean {
  return (status === 'OPEN' || status === 'ACKNOWLEDGED') && kazakhstanToday(now) > notifyByDate;
}

/** Reported after its day, or not reported (nor closed as no breach) and past its day. */
export function reportedLate(i: { status: string; notifyBy: string; reportedAt: Date | null }, now: Date = new Date()): boolean {
  if (i.reportedAt) return kazakhstanToday(i.reportedAt) > i.notifyBy;
  return isOverdue(i.status, i.notifyBy, now);
}
