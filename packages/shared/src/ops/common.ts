/** The ops view's shared vocabulary: its services, the health snapshot, the parked-events protocol (see ../ops.ts). */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { z } from 'zod';
import { streamName } from '../events/envelope';

/** The services of the ops view (the gateway has no outbox, consumers or parked events). */
export const OPS_SERVICES = ['subjects', 'appeals', 'consents', 'audit'] as const;
export type OpsService = (typeof OPS_SERVICES)[number];
/**
 * The subgraph that serves the ops view (`opsView` in its definition): the actor tokens it forwards
 * to the other services are the gateway's tokens for it, so they check that audience.
 */
export const OPS_VIEW_SERVICE: OpsService = 'subjects';

/** The KV bucket of health snapshots; named under the event stream, so what removes a deployment's streams finds it. */
export function opsBucket(prefix: string): string {
  return `${streamName(prefix)}_OPS`;
}

export function opsSubject(prefix: string, service: OpsService, action: 'list' | 'replay'): string {
  return `${prefix}.ops.${service}.parked.${action}`;
}

/** One name per process, also a valid KV key token: host, pid and a random tail. */
export function instanceId(): string {
  return `${hostname()
    .replace(/[^A-Za-z0-9_-]/g, '_')
    .slice(0, 40)}-${process.pid}-${randomBytes(3).toString('hex')}`;
}

export const consumerHealthSchema = z.object({
  name: z.string().max(100),
  pending: z.number().int().min(0),
  ackPending: z.number().int().min(0),
  /** What the reporting instance's consumer does (absent from an instance of an older version: taken as consuming). */
  state: z.enum(['consuming', 'standby', 'stopped']).default('consuming'),
});
export const fieldEncryptionSchema = z.object({
  table: z.string().regex(/^[a-z][a-z0-9_]{0,62}$/),
  keyId: z.string().max(40).nullable(),
  completedAt: z.iso.datetime().nullable(),
  legacyRetiredAt: z.iso.datetime().nullable(),
  pending: z.number().int().min(0),
  unreadable: z.number().int().min(0),
});

export const healthSnapshotSchema = z.object({
  service: z.enum(OPS_SERVICES),
  instance: z.string().regex(/^[\w-]{1,100}$/),
  ready: z.boolean(),
  checks: z.record(z.string().max(40), z.string().max(200)),
  outboxBacklog: z.number().int().min(0),
  oldestUnpublishedSeconds: z.number().min(0).nullable(),
  parkedEvents: z.number().int().min(0),
  consumers: z.array(consumerHealthSchema).max(50),
  relayListening: z.boolean(),
  /** Each encrypted table's re-encryption (field-encryption.ts); absent from an instance of an older version. */
  fieldEncryption: z.array(fieldEncryptionSchema).max(50).default([]),
  reportedAt: z.iso.datetime(),
});
export type HealthSnapshot = z.infer<typeof healthSnapshotSchema>;
export type ConsumerHealth = z.infer<typeof consumerHealthSchema>;

/** Rejects after `ms`: no figure of the ops view may wait for a dependency that is down. */
export function within<T>(ms: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    work,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('timeout')), ms);
      timer.unref();
    }),
  ]).finally(() => clearTimeout(timer));
}

export const json = {
  encode: (value: unknown) => new TextEncoder().encode(JSON.stringify(value)),
  decode: (data: Uint8Array): unknown => JSON.parse(new TextDecoder().decode(data)),
};

/** How long the bucket keeps a snapshot: an instance that stopped reporting disappears after it. */
export function snapshotTtlMs(intervalMs: number): number {
  return Math.max(30_000, 10 * intervalMs);
}

/** A parked event as ops see it: never the payload. */
export interface ParkedEventView {
  id: string;
  service: OpsService;
  consumer: string;
  eventId: string | null;
  type: string | null;
  error: string;
  deliveries: number;
  parkedAt: string;
  resolvedAt: string | null;
}

export const parkedViewSchema = z.object({
  id: z.string(),
  service: z.enum(OPS_SERVICES),
  consumer: z.string(),
  eventId: z.string().nullable(),
  type: z.string().nullable(),
  error: z.string(),
  deliveries: z.number().int(),
  parkedAt: z.string(),
  resolvedAt: z.string().nullable(),
});

export const SEQ = /^[1-9]\d{0,17}$/;
export const listRequest = z.object({ token: z.string().min(1).max(4000), first: z.number().int().min(1).max(200) });
export const replayRequest = z.object({ token: z.string().min(1).max(4000), id: z.string().regex(SEQ) });
export const opsReply = z.discriminatedUnion('ok', [
  z.object({
    ok: z.literal(true),
    items: z.array(parkedViewSchema).max(200).optional(),
    item: parkedViewSchema.optional(),
    outcome: z.enum(['APPLIED', 'DUPLICATE', 'FAILED', 'REJECTED']).optional(),
  }),
  z.object({ ok: z.literal(false), code: z.enum(['FORBIDDEN', 'NOT_FOUND', 'BAD_USER_INPUT', 'UNAVAILABLE']) }),
]);
