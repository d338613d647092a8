import { BLOCKED_RECORD_READERS, isWorkingDay, KZ_OFFSET_MS, kazakhstanToday, type WorkCalendar } from '@pdp/shared';
import type { ChainEntry } from './chain';

/**
 * Detection rules for unauthorised access (clause 7.2.2). Each looks at a new entry and, where it
 * needs to, at the same actor's (or client's) recent entries; what it finds becomes an incident with
 * the entries as evidence. Thresholds are per window; repeats inside the window add evidence to the
 * open incident instead of raising another.
 */
export const RULES = {
  /** Someone keeps trying what they may not do (any refusal but a blocked subject's, see below). */
  REPEATED_DENIALS: { threshold: 5, windowMinutes: 10 },
  /** Someone reads far more subjects than handling appeals needs. */
  MASS_READ: { threshold: 200, windowMinutes: 10 },
  /** A partner (creditor) asks for what was not forwarded to it. */
  SCOPE_PROBE: { threshold: 3, windowMinutes: 10 },
  /** A blocked subject's data read by someone other than the DPO or the audit, or tried repeatedly. */
  BLOCKED_SUBJECT_ACCESS: { threshold: 3, windowMinutes: 10 },
  /** Staff or a partner at work outside working hours or on a non-working day (once per actor and day). */
  OFF_HOURS_ACCESS: { threshold: 1, windowMinutes: 24 * 60 },
  /** An event its type's owner did not produce unaltered was refused by a consumer (signatures). */
  FORGED_EVENT: { threshold: 1, windowMinutes: 60 },
  /**
   * The audit chain edited, cut, rewritten or added to by someone else: found by a verification run,
   * or by the recorder when the database's head is not the one it wrote (not by an entry).
   */
  AUDIT_TAMPERED: { threshold: 1, windowMinutes: 24 * 60 },
  /** Stream messages acknowledged to the audit but never recorded, and gone from the stream (reconciliation). */
  AUDIT_GAP: { threshold: 1, windowMinutes: 24 * 60 },
} as const;

export type RuleName = keyof typeof RULES;

/** Roles of people whose actions are watched for hours and mass reads (not the public, not the platform). */
const WATCHED_ROLES = new Set(['OPERATOR', 'DPO', 'CHAIRMAN', 'HR', 'CONTRACTS', 'AUDITOR', 'PARTNER', 'OPS']);

export function isSystemActor(actorId: string): boolean {
  return actorId.startsWith('system:');
}

export function isWatchedPerson(e: Pick<ChainEntry, 'actorId' | 'actorRoles'>): boolean {
  return !isSystemActor(e.actorId) && e.actorRoles.some((r) => WATCHED_ROLES.has(r));
}

export function mayReadBlocked(e: Pick<ChainEntry, 'actorRoles'>): boolean {
  // The DPO and the audit (6.1.3), and the CHAIRMAN's PD-free view of the record (shared BLOCKED_RECORD_READERS).
  return e.actorRoles.some((r) => (BLOCKED_RECORD_READERS as readonly string[]).includes(r));
}

/** Operations that handle a subject's data (all but the refusals). */
export const PROCESSING = new Set(['COLLECT', 'STORE', 'MODIFY', 'ACCESS', 'TRANSFER']);

export interface WorkHours {
  start: number;
  end: number;
}

/**
 * When `at` falls outside working hours in Kazakhstan (UTC+5), or on a non-working day, the day
 * (YYYY-MM-DD, Kazakhstan) it belongs to; null within working time.
 */
export function offHoursDay(at: Date, hours: WorkHours | null, calendar: WorkCalendar): string | null {
  if (!hours) return null;
  const day = kazakhstanToday(at);
  const hour = new Date(at.getTime() + KZ_OFFSET_MS).getUTCHours();
  const working = isWorkingDay(new Date(`${day}T00:00:00Z`), calendar) && hour >= hours.start && hour < hours.end;
  return working ? null : day;
}
