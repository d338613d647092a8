import type { RequestScope } from '../auth/guard';
import type { ServiceName } from './catalog';
import type { ActorRef, Envelope } from './envelope';

export interface EventHeader<S extends ServiceName> {
  source: S;
  actor: ActorRef;
  subjectId: string | null;
  correlationId: string;
}

/**
 * The header of an event a service writes — its source, who acted, the subject — and what it
 * answers: the request's id for a change a request made, the event's id for one that follows from an
 * event (a consumer's receipt). Spread into `enqueueEvent`'s input with the type and data.
 */
export function eventHeader<S extends ServiceName>(source: S, cause: RequestScope | Envelope, subjectId: string | null = null): EventHeader<S> {
  const correlationId = 'meta' in cause ? cause.meta.requestId : cause.id;
  return { source, actor: cause.actor, subjectId, correlationId };
}
