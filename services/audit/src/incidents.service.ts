import { createHash } from 'node:crypto';
import { ConflictError, enqueueEvent, eventHeader, NotFoundError, PolicyError, type RequestScope } from '@pdp/shared';
import type { Kysely, Transaction } from 'kysely';
import type { Deps } from './config';
import { addEvidence, insertIncident, lockIncident, openIncidentFor, updateIncident } from './db/incidents.repository';
import type { Database, IncidentRow } from './db/tables';
import { notifyBy, transition, type IncidentAction, type IncidentStatus } from './domain/incident';

/** What a detection rule (or a failed verification) found. */
export interface Hit {
  rule: string;
  /** Groups repeats into one incident: the actor, the client, the event… */
  key: string;
  actorId: string;
  subjectId: string | null;
  evidence: string[];
  details: Record<string, unknown>;
  /** A repeat within this long adds its evidence to the incident instead of raising another. */
  windowMinutes: number;
}

const DETECTION_ACTOR = { id: 'system:audit-detection', roles: [] as string[] };

/**
 * Raises an incident, or adds the evidence to the one already open for the same rule and key. A new
 * incident gets its breach-notification day and goes into the chain itself (`incident.raised`).
 */
export async function raiseIncident(deps: Deps, trx: Transaction<Database>, hit: Hit): Promise<void> {
  const since = new Date(Date.now() - hit.windowMinutes * 60_000);
  const open = await openIncidentFor(trx, hit.rule, hit.key, since);
  if (open) {
    await addEvidence(trx, open.id, hit.evidence);
    return;
  }
  const detectedAt = new Date();
  const { calendar, notifyWorkingDays } = deps.config.extra;
  const row = await insertIncident(trx, {
    rule: hit.rule,
    key: hit.key,
    actorId: hit.actorId,
    subjectId: hit.subjectId,
    detectedAt,
    notifyBy: notifyBy(detectedAt, notifyWorkingDays, calendar),
    evidence: hit.evidence,
    details: { ...hit.details, count: hit.evidence.length, windowMinutes: hit.windowMinutes },
  });
  await enqueueEvent(trx, deps.prefix, {
    type: 'incident.raised',
    source: 'audit',
    actor: DETECTION_ACTOR,
    subjectId: hit.subjectId,
    correlationId: null,
    data: { incidentId: row.id, rule: hit.rule, notifyBy: row.notify_by!, evidence: hit.evidence.slice(0, 100) },
  });
}

const OPERATIONS: Record<IncidentAction, string> = {
  acknowledge: 'Mutation.acknowledgeIncident',
  report: 'Mutation.reportIncident',
  close: 'Mutation.closeIncident',
};

/**
 * The DPO moves an incident on (acknowledge, report with the notification's reference, close) —
 * never one about their own actions: whose repeated refusals, night work or mass reads an incident
 * records is not who decides it was no breach. That refusal is recorded as a denied attempt
 * (reason OWN_INCIDENT), which the control report counts.
 */
export async function changeIncident(
  deps: Deps,
  scope: RequestScope,
  id: string,
  action: IncidentAction,
  input: { reference?: string; note?: string } = {},
): Promise<IncidentRow> {
  return (deps.db as Kysely<Database>).transaction().execute(async (trx) => {
    const incident = await lockIncident(trx, id);
    if (!incident) throw new NotFoundError(scope.meta.locale, 'Incident');
    if (incident.actor_id === scope.actor.id) {
      // Recorded outside this transaction, which the refusal rolls back.
      await deps.guard.recordDenied(scope, OPERATIONS[action], 'OWN_INCIDENT');
      throw new PolicyError('FORBIDDEN', 'incident.own', scope.meta.locale, { reason: 'OWN_INCIDENT' });
    }
    const from = incident.status as IncidentStatus;
    const to = transition(from, action);
    if (!to) throw new ConflictError(scope.meta.locale, 'TRANSITION_NOT_ALLOWED');
    const now = new Date();
    const by = scope.actor.id;
    const acknowledged = incident.acknowledged_at ? {} : { acknowledged_at: now, acknowledged_by: by };
    const patch =
      action === 'acknowledge'
        ? { status: to, ...acknowledged }
        : action === 'report'
          ? { status: to, ...acknowledged, reported_at: now, reported_by: by, reference: input.reference ?? null }
          : { status: to, closed_at: now, closed_by: by, close_note: input.note ?? null };
    const updated = await updateIncident(trx, id, patch);
    await enqueueEvent(trx, deps.prefix, {
      ...eventHeader('audit', scope, incident.subject_id),
      type: 'incident.status_changed',
      data: {
        incidentId: id,
        from,
        to,
        referenceSha256: input.reference ? createHash('sha256').update(input.reference, 'utf8').digest('hex') : null,
      },
    });
    return updated;
  });
}
