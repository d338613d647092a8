import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { EVENT_CATALOG, SERVICES, isEventType, type EventData, type EventType, type ServiceName } from './catalog';

export const actorRefSchema = z.object({ id: z.string().min(1), roles: z.array(z.string()) });
export type ActorRef = z.infer<typeof actorRefSchema>;

export const envelopeSchema = z.object({
  id: z.uuid(),
  type: z.string().refine(isEventType, 'unknown event type'),
  version: z.number().int().positive(),
  occurredAt: z.iso.datetime(),
  source: z.enum(SERVICES),
  actor: actorRefSchema,
  subjectId: z.uuid().nullable(),
  correlationId: z.string().nullable(),
  data: z.record(z.string(), z.unknown()),
  /** The producer's Ed25519 signature (base64url) over the rest, set when enqueued (signing.ts). */
  signature: z.string().max(200).optional(),
});

export type Envelope<T extends EventType = EventType> = Omit<z.infer<typeof envelopeSchema>, 'type' | 'data'> & {
  type: T;
  data: EventData<T>;
};

export interface NewEvent<T extends EventType> {
  type: T;
  source: ServiceName;
  actor: ActorRef;
  subjectId?: string | null;
  correlationId?: string | null;
  data: EventData<T>;
}

/**
 * Builds an (unsigned) envelope, validating the data against the catalog; a bad event is a
 * programming error. `enqueueEvent` signs it with the producer's key before it is stored.
 */
export function buildEnvelope<T extends EventType>(input: NewEvent<T>): Envelope<T> {
  const spec = EVENT_CATALOG[input.type];
  const data = spec.data.parse(input.data) as EventData<T>;
  return {
    id: randomUUID(),
    type: input.type,
    version: spec.version,
    occurredAt: new Date().toISOString(),
    source: input.source,
    actor: { id: input.actor.id, roles: [...input.actor.roles] },
    subjectId: input.subjectId ?? null,
    correlationId: input.correlationId ?? null,
    data,
  };
}

/** Parses a received envelope and its data; throws (and the message is parked) when either is bad. */
export function parseEnvelope(raw: unknown): Envelope {
  const envelope = envelopeSchema.parse(raw);
  const type = envelope.type as EventType;
  const data = EVENT_CATALOG[type].data.parse(envelope.data);
  return { ...envelope, type, data } as Envelope;
}

export function natsSubject(prefix: string, type: EventType): string {
  return `${prefix}.events.${type}`;
}

export function streamName(prefix: string): string {
  return `${prefix.toUpperCase()}_EVENTS`;
}
