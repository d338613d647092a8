import { EVENT_CATALOG, purposeOfActor, type Envelope, type EventType, type OperationKind, type Role } from '@pdp/shared';
import type { ChainEntry, Outcome } from './chain';

export type { ChainEntry as AuditEntryRecord } from './chain';

/** An entry before the chain places it: everything but seq, recordedAt, the links and the hash. */
export type NewEntry = Omit<ChainEntry, 'seq' | 'hashVersion' | 'recordedAt' | 'prevHash' | 'hash'>;

export interface SubjectRef {
  id: string;
}

const JWE = /^[\w-]+\.[\w-]*\.[\w-]+\.[\w-]+\.[\w-]+$/;

/**
 * An event's facts without sealed values: the audit holds no personal data, not even encrypted.
 * Events carry neither raw PD nor ciphertext of it: personal data go between services as hand-offs
 * outside the stream, and an event holds only `{ to, id, sha256 }` for each, which is kept (the
 * digest of random ciphertext reveals nothing and proves which hand-off the event meant). Should a
 * compact JWE ever reach an event, it is still dropped here.
 */
export function scrubDetails(value: unknown): unknown {
  if (typeof value === 'string') return JWE.test(value) ? '[sealed]' : value;
  if (Array.isArray(value)) return value.map(scrubDetails);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, scrubDetails(v)]));
  }
  return value;
}

interface Touched {
  resource: string | null;
  resourceIds: string[];
  fields: string[];
}

type Data = Record<string, unknown>;
const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const ids = (...values: unknown[]) => values.filter((v): v is string => typeof v === 'string');
const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

/**
 * What each kind of event touched: the resource, its ids and the personal-data fields (docs/events.md).
 * Keyed by name, so a type the catalog gains later falls back to its ids until it is listed here.
 */
const TOUCHED: Record<string, (d: Data) => Touched> = {
  'appeal.submitted': (d) => ({ resource: 'appeal', resourceIds: ids(d.appealId), fields: ['iin', 'phone', 'email', 'description', 'ip', 'userAgent'] }),
  'subject.registered': (d) => ({ resource: 'subject', resourceIds: ids(d.subjectId), fields: ['iin', 'category', 'source', 'purposes'] }),
  'subject.appeal_linked': (d) => ({ resource: 'appeal', resourceIds: ids(d.appealId), fields: ['subjectId'] }),
  'consent.recorded': (d) => ({ resource: 'consent', resourceIds: ids(d.consentId), fields: ['template', 'locale', 'channel', 'ip', 'userAgent'] }),
  'consent.subject_linked': (d) => ({ resource: 'consent', resourceIds: ids(d.consentId), fields: ['subjectId'] }),
  'pd.accessed': (d) => ({ resource: str(d.resource), resourceIds: strings(d.resourceIds), fields: strings(d.fields) }),
  'access.denied': (d) => ({ resource: str(d.operation), resourceIds: [], fields: [] }),
  'subject.blocked': (d) => ({ resource: 'subject', resourceIds: ids(d.subjectId), fields: ['status'] }),
  'subject.unblocked': (d) => ({ resource: 'subject', resourceIds: ids(d.subjectId), fields: ['status'] }),
  'subject.block_applied': (d) => ({ resource: 'subject', resourceIds: ids(d.subjectId), fields: ['blocked'] }),
  'rectification.approved': (d) => ({ resource: 'rectification_request', resourceIds: ids(d.requestId), fields: strings([d.field]) }),
  'rectification.applied': (d) => ({ resource: 'rectification_request', resourceIds: ids(d.requestId), fields: strings([d.field]) }),
  'appeal.status_changed': (d) => ({ resource: 'appeal', resourceIds: ids(d.appealId), fields: ['status'] }),
  'event.rejected': (d) => ({ resource: 'event', resourceIds: ids(d.eventId), fields: [] }),
  'rectification.requested': (d) => ({ resource: 'rectification_request', resourceIds: ids(d.requestId), fields: strings([d.field]) }),
  'rectification.rejected': (d) => ({ resource: 'rectification_request', resourceIds: ids(d.requestId), fields: strings([d.field]) }),
  'request.refused': (d) => ({ resource: 'graphql', resourceIds: [], fields: strings(d.fields) }),
  'appeal.forwarded': (d) => ({ resource: 'appeal', resourceIds: ids(d.appealId, d.creditorId), fields: strings(d.fields).map((f) => f.toLowerCase()) }),
  'appeal.assigned': (d) => ({ resource: 'appeal', resourceIds: ids(d.appealId), fields: ['assignee'] }),
  'appeal.answered': (d) => ({ resource: 'appeal', resourceIds: ids(d.appealId), fields: ['answer'] }),
  'consent.withdrawn': (d) => ({ resource: 'consent', resourceIds: ids(d.consentId), fields: ['status'] }),
};

/** Falls back to every `…Id` value of the data: the records an event names. */
function touched(type: EventType, data: Data): Touched {
  const known = Object.hasOwn(TOUCHED, type) ? TOUCHED[type] : undefined;
  if (known) return known(data);
  const [resource] = type.split('.');
  return {
    resource: resource ?? null,
    resourceIds: ids(
      ...Object.entries(data)
        .filter(([k]) => k.endsWith('Id'))
        .map(([, v]) => v),
    ),
    fields: [],
  };
}

/**
 * The operation kind of clause 2.2 an event is: the catalog's, refined where the data say more
 * (a read that was a transfer, a receipt for unblocking, an erasure that depersonalized).
 */
export function operationOf(type: EventType, data: Data): OperationKind {
  const kind = EVENT_CATALOG[type].operation;
  if (type === 'pd.accessed' && typeof data.operation === 'string') return data.operation as OperationKind;
  if (type === 'subject.block_applied' && data.blocked === false) return 'UNBLOCK';
  if ((type === 'erasure.receipt' || type === 'erasure.completed') && data.method === 'DEPERSONALIZE') return 'DEPERSONALIZE';
  return kind;
}

/** The purpose of an action, when its event does not declare one: by the kind of event, else by role. */
const PURPOSE_BY_PREFIX: Array<[string, string]> = [
  ['appeal.', 'APPEAL_HANDLING'],
  ['subject.registered', 'APPEAL_HANDLING'],
  ['subject.appeal_linked', 'APPEAL_HANDLING'],
  ['consent.', 'APPEAL_HANDLING'],
  ['subject.', 'SUBJECT_RIGHTS'],
  ['erasure.', 'SUBJECT_RIGHTS'],
  ['rectification.', 'SUBJECT_RIGHTS'],
  ['employee.', 'LABOUR_RELATIONS'],
  ['employment.', 'LABOUR_RELATIONS'],
  ['counterparty.', 'CONTRACT_PERFORMANCE'],
  ['obligation.', 'CONTRACT_PERFORMANCE'],
  ['event.', 'SECURITY'],
  ['request.', 'SECURITY'],
  ['incident.', 'SECURITY'],
];

/** The declared purpose (a code, or `{ code }`), else the kind of event's, else the one the actor's role serves. */
export function purposeOf(event: Envelope): string {
  const declared = (event.data as Data).purpose;
  if (typeof declared === 'string') return declared;
  if (declared && typeof declared === 'object' && typeof (declared as Data).code === 'string') return (declared as Data).code as string;
  const byType = PURPOSE_BY_PREFIX.find(([prefix]) => event.type.startsWith(prefix))?.[1];
  return byType ?? purposeOfActor({ roles: event.actor.roles as Role[] });
}

/** An event as the audit records it; nothing here is personal data (see docs/events.md). */
export function fromEnvelope(event: Envelope): NewEntry {
  const data = event.data as Data;
  const operation = operationOf(event.type, data);
  const outcome: Outcome = EVENT_CATALOG[event.type].operation === 'DENIED' ? 'DENIED' : 'ALLOWED';
  const details = JSON.parse(JSON.stringify(scrubDetails(data))) as unknown;
  return {
    eventId: event.id,
    type: event.type,
    operation,
    source: event.source,
    actorId: event.actor.id,
    actorRoles: [...event.actor.roles],
    creditorId: str(data.creditorId),
    purpose: purposeOf(event),
    outcome,
    subjectId: event.subjectId,
    correlationId: event.correlationId,
    clientKey: str(data.client),
    ...touched(event.type, data),
    occurredAt: new Date(event.occurredAt).toISOString().replace(/Z$/, '000Z'),
    details,
  };
}
