import { createHash } from 'node:crypto';
import { EVENT_CATALOG, type Envelope } from '@pdp/shared';

export const GENESIS_HASH = '0'.repeat(64);

/** The parts of an entry the hash covers; `seq` and `recorded_at` are the database's, not the event's. */
export interface ChainedFields {
  eventId: string;
  type: string;
  operation: string;
  source: string;
  actorId: string;
  actorRoles: string[];
  subjectId: string | null;
  correlationId: string | null;
  occurredAt: string;
  details: unknown;
}

export interface AuditEntryRecord extends ChainedFields {
  seq: string;
  recordedAt: string;
  prevHash: string;
  hash: string;
}

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

export function fromEnvelope(event: Envelope): ChainedFields {
  return {
    eventId: event.id,
    type: event.type,
    operation: EVENT_CATALOG[event.type].operation === 'ACCESS' && 'operation' in event.data
      ? String(event.data.operation)
      : EVENT_CATALOG[event.type].operation,
    source: event.source,
    actorId: event.actor.id,
    actorRoles: event.actor.roles,
    subjectId: event.subjectId,
    correlationId: event.correlationId,
    occurredAt: new Date(event.occurredAt).toISOString(),
    details: scrubDetails(event.data),
  };
}

/** Canonical JSON: keys sorted at every level, so the hash does not depend on jsonb's key order. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

export function chainHash(prevHash: string, f: ChainedFields): string {
  // Only the chained fields, even when given a whole stored entry.
  const covered: ChainedFields = {
    eventId: f.eventId,
    type: f.type,
    operation: f.operation,
    source: f.source,
    actorId: f.actorId,
    actorRoles: f.actorRoles,
    subjectId: f.subjectId,
    correlationId: f.correlationId,
    occurredAt: f.occurredAt,
    details: f.details,
  };
  return createHash('sha256').update(prevHash).update('\n').update(canonical(covered)).digest('hex');
}
