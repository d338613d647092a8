/** What a refused message claims to be, kept only where it is checkable (see consumer.ts, `reject`). */
import { SERVICES, isEventType, type EventType, type ServiceName } from './catalog';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The event type a NATS subject names (`<prefix>.events.<type>`), or '' for any other subject. */
export function typeOfSubject(subject: string, prefix: string): string {
  return subject.startsWith(`${prefix}.events.`) ? subject.slice(prefix.length + 8) : '';
}

/** What a refused message claims, kept only where it is a uuid, a catalog type or a known service. */
export function claimsOf(raw: unknown, subject: string, prefix: string): { eventId: string | null; type: EventType | null; source: ServiceName | null } {
  const r = raw && typeof raw === 'object' ? (raw as Record<string, unknown>) : {};
  const subjectType = typeOfSubject(subject, prefix);
  const type = typeof r.type === 'string' && isEventType(r.type) ? r.type : isEventType(subjectType) ? subjectType : null;
  return {
    eventId: typeof r.id === 'string' && UUID.test(r.id) ? r.id.toLowerCase() : null,
    type,
    source: typeof r.source === 'string' && (SERVICES as readonly string[]).includes(r.source) ? (r.source as ServiceName) : null,
  };
}
