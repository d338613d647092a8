/**
 * The nats-server that `npm start` and the fault suite run: authentication on, one user per service
 * (and one for the gateway and one for start.ts's readiness probe), each allowed exactly the NATS
 * work its code does: publishing its own event types, and the JetStream API subjects of its own
 * streams, durable consumers, hand-offs and buckets, named one by one. A stolen or buggy service can
 * neither put another service's event type on the stream nor fetch from, acknowledge on or create
 * another service's consumer (which would take events away from it for good); the signatures
 * (docs/events.md) stop what gets past this, e.g. a forged event of a type the service may send.
 * Production does the same with NKeys or JWT accounts (operations.md, "Production: NATS and event keys").
 */
import {
  accessBucket,
  DURABLE_CONSUMERS,
  EVENT_CATALOG,
  handoffStreamName,
  natsInboxPrefix,
  natsSubject,
  opsBucket,
  streamName,
  type EventType,
  type ServiceName,
} from '@pdp/shared';

/** NATS users of `npm start`: the services, the gateway, and start.ts's own probe. */
export const NATS_USERS = ['subjects', 'appeals', 'consents', 'audit', 'gateway', 'start'] as const;
export type NatsUser = (typeof NATS_USERS)[number];

/** A KV bucket's name under a deployment's prefix (e.g. `opsBucket`). */
type Bucket = (prefix: string) => string;

/**
 * What one service does on NATS; its permissions follow from this and nothing else. Granting a
 * service more (a bucket it writes, one it watches)? This is the place.
 */
export interface NatsGrant {
  service: ServiceName;
  /** Consumes the event stream through these durables (DURABLE_CONSUMERS) — and no others. */
  durables: readonly string[];
  /**
   * Hand-offs (events/handoff.ts): sends them (its relay; and erasure markers), reads and then removes
   * those addressed to it, erases any of an erased subject.
   */
  handoffs: { send: boolean; read: boolean; erase: boolean };
  /** KV buckets it writes (only its own keys, a subject pattern within the bucket) and reads (lists, gets, watches with ordered consumers). */
  kv: { write: Array<{ bucket: Bucket; keys: string }>; read: Bucket[] };
  /** Ops requests about parked events (ops.ts): every service answers its own; the ops view also asks them and reads every consumer's lag. */
  ops: 'answer' | 'view' | null;
  /** Reads messages of the event stream by number (the audit: its witness checkpoint, and reconciliation of gaps). */
  readEvents?: boolean;
}

const NO_HANDOFFS = { send: false, read: false, erase: false } as const;
/** Each service writes its health snapshots into the ops bucket under its own name (ops.ts). */
const ownSnapshots = (service: ServiceName) => ({ bucket: opsBucket, keys: `${service}.>` });

export const NATS_GRANTS: Record<Exclude<NatsUser, 'start'>, NatsGrant> = {
  subjects: {
    service: 'subjects',
    durables: DURABLE_CONSUMERS.subjects,
    handoffs: { send: true, read: true, erase: true },
    kv: { write: [ownSnapshots('subjects')], read: [opsBucket] },
    ops: 'view',
  },
  appeals: {
    service: 'appeals',
    durables: DURABLE_CONSUMERS.appeals,
    handoffs: { send: true, read: true, erase: true },
    // The access registry's view for the gateways: appeals writes it (compare-and-set, so it reads it too).
    kv: { write: [ownSnapshots('appeals'), { bucket: accessBucket, keys: '>' }], read: [accessBucket] },
    ops: 'answer',
  },
  consents: {
    service: 'consents',
    durables: DURABLE_CONSUMERS.consents,
    handoffs: { send: false, read: true, erase: false },
    kv: { write: [ownSnapshots('consents')], read: [] },
    ops: 'answer',
  },
  audit: {
    service: 'audit',
    durables: DURABLE_CONSUMERS.audit,
    handoffs: NO_HANDOFFS,
    kv: { write: [ownSnapshots('audit')], read: [] },
    ops: 'answer',
    readEvents: true,
  },
  // Publishes its refusals (`request.refused`) straight to the stream, and watches the access registry.
  gateway: { service: 'gateway', durables: [], handoffs: NO_HANDOFFS, kv: { write: [], read: [accessBucket] }, ops: null },
};

export interface Permissions {
  publish: { allow: string[]; deny: string[] };
  subscribe: { allow: string[]; deny: string[] };
  /** May answer requests (ops requests about its parked events), once per request. */
  allowResponses: boolean;
}

const API = '$JS.API';

/**
 * The subjects a grant allows, for the JetStream API of the nats.js in the lockfile (2.29) on
 * nats-server 2.9+: a durable is created or updated on `CONSUMER.CREATE.<stream>.<name>[.<filter>]`,
 * read on `CONSUMER.INFO.<stream>.<name>`, fetched from on `CONSUMER.MSG.NEXT.<stream>.<name>`, and
 * its messages are acknowledged (ack, nak, term) on `$JS.ACK.<stream>.<name>.…` — the consumer's name
 * is in each, so a user may do all of it to its own durables and none of it to another's. Messages
 * come to the user's own inbox prefix only. Nothing deletes, purges or reconfigures the event stream
 * or a consumer (ops' work), and no service makes ephemeral consumers on the event stream.
 */
export function natsPermissions(user: NatsUser, prefix: string): Permissions {
  if (user === 'start') return { publish: { allow: [], deny: ['>'] }, subscribe: { allow: [], deny: ['>'] }, allowResponses: false };
  const grant = NATS_GRANTS[user];
  const events = streamName(prefix);
  const handoffs = handoffStreamName(prefix);
  const own = (Object.keys(EVENT_CATALOG) as EventType[])
    .filter((type) => EVENT_CATALOG[type].source === grant.service || EVENT_CATALOG[type].source === 'any')
    .map((type) => natsSubject(prefix, type));
  // A service (one with durables) makes, when missing, and checks the event and hand-off streams; the
  // gateway only publishes. Both a service and a user of a bucket open a JetStream manager, which
  // asks `$JS.API.INFO` (nats.js's views.kv does too).
  const service = grant.durables.length > 0;
  const manager = service || grant.kv.write.length > 0 || grant.kv.read.length > 0;
  const streams = service ? [events, handoffs].flatMap((s) => [`${API}.STREAM.INFO.${s}`, `${API}.STREAM.CREATE.${s}`]) : [];
  const durables = grant.durables.flatMap((d) => [
    `${API}.CONSUMER.CREATE.${events}.${d}`,
    `${API}.CONSUMER.CREATE.${events}.${d}.>`,
    `${API}.CONSUMER.INFO.${events}.${d}`,
    `${API}.CONSUMER.MSG.NEXT.${events}.${d}`,
    `$JS.ACK.${events}.${d}.>`,
  ]);
  const { send, read, erase } = grant.handoffs;
  const handoffApi = [
    ...(send ? [`${prefix}.handoff.>`] : []),
    ...(read || erase ? [`${API}.STREAM.MSG.GET.${handoffs}`, `${API}.STREAM.MSG.DELETE.${handoffs}`] : []),
    ...(erase ? [`${API}.STREAM.PURGE.${handoffs}`] : []),
  ];
  const kvStream = (bucket: Bucket) => `KV_${bucket(prefix)}`;
  const bind = (bucket: Bucket) => [`${API}.STREAM.INFO.${kvStream(bucket)}`, `${API}.STREAM.CREATE.${kvStream(bucket)}`];
  const kv = [
    ...grant.kv.write.flatMap(({ bucket, keys }) => [...bind(bucket), `$KV.${bucket(prefix)}.${keys}`]),
    // Listing keys and watching use ordered consumers: ephemeral, made (and made again after a gap)
    // on `CONSUMER.CREATE.<stream>[.<name>.<filter>]`, with flow control answered on `$JS.FC`.
    ...grant.kv.read.flatMap((bucket) => [
      ...bind(bucket),
      `${API}.CONSUMER.CREATE.${kvStream(bucket)}`,
      `${API}.CONSUMER.CREATE.${kvStream(bucket)}.>`,
      `$JS.FC.${kvStream(bucket)}.>`,
      `${API}.DIRECT.GET.${kvStream(bucket)}`,
      `${API}.DIRECT.GET.${kvStream(bucket)}.>`,
      `${API}.STREAM.MSG.GET.${kvStream(bucket)}`,
    ]),
  ];
  // The ops view asks every service about its parked events and shows every consumer's lag (read only).
  const opsView = grant.ops === 'view' ? [`${prefix}.ops.*.parked.*`, `${API}.CONSUMER.INFO.${events}.*`] : [];
  // Reading by number: `STREAM.MSG.GET` names the stream, not the message (it is in the request body).
  // Every service with an outbox reads back what its relay published after NATS was away (keeper.ts).
  const readEvents = grant.readEvents || service ? [`${API}.STREAM.MSG.GET.${events}`] : [];
  const allow = [...own, ...(manager ? [`${API}.INFO`] : []), ...streams, ...durables, ...handoffApi, ...kv, ...opsView, ...readEvents];
  return {
    publish: { allow: [...new Set(allow)], deny: [] },
    subscribe: { allow: [`${natsInboxPrefix(grant.service)}.>`, ...(grant.ops ? [`${prefix}.ops.${grant.service}.>`] : [])], deny: [] },
    allowResponses: grant.ops !== null,
  };
}

export interface NatsServerConfig {
  port: number;
  storeDir: string;
  prefix: string;
  passwords: Record<NatsUser, string>;
  /** A node of a JetStream cluster: its unique name, the cluster's name, its route port and the others' routes. */
  cluster?: { serverName: string; name: string; port: number; routes: string[] };
  /** The monitoring port (`/healthz`, `/varz`; compose.yaml's health checks), on 127.0.0.1. */
  httpPort?: number;
}

/** The nats-server configuration file (its own syntax; JSON strings are valid values in it). */
export function natsServerConfig(c: NatsServerConfig): string {
  const q = (s: string) => JSON.stringify(s);
  const list = (items: string[]) => `[${items.map(q).join(', ')}]`;
  const rules = (r: { allow: string[]; deny: string[] }) =>
    `{ ${[...(r.allow.length > 0 ? [`allow: ${list(r.allow)}`] : []), ...(r.deny.length > 0 ? [`deny: ${list(r.deny)}`] : [])].join(', ')} }`;
  const users = NATS_USERS.map((user) => {
    const p = natsPermissions(user, c.prefix);
    return [
      `    { user: ${q(user)}, password: ${q(c.passwords[user])},`,
      `      permissions: {`,
      `        publish: ${rules(p.publish)}`,
      `        subscribe: ${rules(p.subscribe)}`,
      ...(p.allowResponses ? ['        allow_responses: true'] : []),
      `      } }`,
    ].join('\n');
  });
  return [
    '# Written by npm start (scripts/dev-nats.ts) on every start; passwords are in dev-secrets.json.',
    `listen: "127.0.0.1:${c.port}"`,
    `jetstream { store_dir: ${q(c.storeDir)} }`,
    ...(c.httpPort ? [`http: "127.0.0.1:${c.httpPort}"`] : []),
    ...(c.cluster
      ? [
          `server_name: ${q(c.cluster.serverName)}`,
          `cluster { name: ${q(c.cluster.name)}, listen: "127.0.0.1:${c.cluster.port}", routes: ${list(c.cluster.routes)} }`,
        ]
      : []),
    'authorization {',
    '  users = [',
    users.join('\n'),
    '  ]',
    '}',
    '',
  ].join('\n');
}

/** A NATS URL that carries a user's credentials (connectNats takes them out again). */
export function natsUrlFor(user: NatsUser, password: string, port: number): string {
  return `nats://${encodeURIComponent(user)}:${encodeURIComponent(password)}@127.0.0.1:${port}`;
}
