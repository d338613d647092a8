/**
 * The nats-server that `npm start` runs: authentication on, one user per service (and one for the
 * gateway and one for start.ts's readiness probe), each allowed to publish only the event types its
 * service may produce. A stolen or buggy service cannot even put another service's event type on
 * the stream; the signatures (docs/events.md) stop what gets past this, e.g. a forged event of a
 * type the service may send. Production does the same with NKeys or JWT accounts (operations.md).
 */
import { accessBucket, EVENT_CATALOG, natsSubject, opsBucket, streamName, type EventType } from '@pdp/shared';

/** NATS users of `npm start`: the services, the gateway, and start.ts's own probe. */
export const NATS_USERS = ['subjects', 'appeals', 'consents', 'audit', 'gateway', 'start'] as const;
export type NatsUser = (typeof NATS_USERS)[number];

/** Services that hand personal data to another outside the stream (`<prefix>.handoff.<to>.<id>`). */
const HANDOFF_SENDERS: readonly NatsUser[] = ['appeals', 'subjects'];

/** The service that serves the ops view (`opsView` in its definition) asks the others about their parked events. */
const OPS_VIEW: NatsUser = 'subjects';
const SERVICES_WITH_OPS: readonly NatsUser[] = ['subjects', 'appeals', 'consents', 'audit'];

export interface Permissions {
  publish: { allow: string[]; deny: string[] };
  subscribe: { allow: string[]; deny: string[] };
  /** May answer requests (ops requests about its parked events), once per request. */
  allowResponses: boolean;
}

/**
 * What a user may do. Publish: its own event types, hand-offs for the senders, the JetStream API
 * (stream info and creation, consumers, fetching, hand-off reads and erasure) and acks. Never: delete,
 * purge, reconfigure the event stream or remove its messages or consumers (those are ops' work), nor
 * delete or reconfigure the hand-off stream. Subscribe: replies only (`_INBOX.>`: API answers, pulled
 * messages). The probe may only connect.
 */
export function natsPermissions(user: NatsUser, prefix: string): Permissions {
  if (user === 'start') return { publish: { allow: [], deny: ['>'] }, subscribe: { allow: [], deny: ['>'] }, allowResponses: false };
  const events = streamName(prefix);
  // The hand-off stream (events/handoff.ts) is named after the event stream.
  const handoffs = `${events}_HANDOFF`;
  const own = (Object.keys(EVENT_CATALOG) as EventType[])
    .filter((type) => EVENT_CATALOG[type].source === user || EVENT_CATALOG[type].source === 'any')
    .map((type) => natsSubject(prefix, type));
  const ops = SERVICES_WITH_OPS.includes(user);
  return {
    publish: {
      allow: [
        ...own,
        ...(HANDOFF_SENDERS.includes(user) ? [`${prefix}.handoff.>`] : []),
        '$JS.API.>',
        '$JS.ACK.>',
        // Its own health snapshots in the ops bucket; the ops view's requests to every service.
        ...(ops ? [`$KV.${opsBucket(prefix)}.${user}.>`] : []),
        // The access registry's view for the gateways (appeals writes it; the gateways only watch).
        ...(user === 'appeals' ? [`$KV.${accessBucket(prefix)}.>`] : []),
        ...(user === OPS_VIEW ? [`${prefix}.ops.*.parked.*`] : []),
      ],
      deny: [
        ...[events, handoffs].flatMap((s) => [`$JS.API.STREAM.DELETE.${s}`, `$JS.API.STREAM.UPDATE.${s}`]),
        `$JS.API.STREAM.PURGE.${events}`,
        `$JS.API.STREAM.MSG.DELETE.${events}`,
        `$JS.API.CONSUMER.DELETE.${events}.*`,
        '$JS.API.ACCOUNT.>',
      ],
    },
    subscribe: { allow: ['_INBOX.>', ...(ops ? [`${prefix}.ops.${user}.>`] : [])], deny: [] },
    allowResponses: ops,
  };
}

export interface NatsServerConfig {
  port: number;
  storeDir: string;
  prefix: string;
  passwords: Record<NatsUser, string>;
  /** A node of a JetStream cluster: its unique name, the cluster's name, its route port and the others' routes. */
  cluster?: { serverName: string; name: string; port: number; routes: string[] };
}

/** The nats-server configuration file (its own syntax; JSON strings are valid values in it). */
export function natsServerConfig(c: NatsServerConfig): string {
  const q = (s: string) => JSON.stringify(s);
  const list = (items: string[]) => `[${items.map(q).join(', ')}]`;
  const users = NATS_USERS.map((user) => {
    const p = natsPermissions(user, c.prefix);
    return [
      `    { user: ${q(user)}, password: ${q(c.passwords[user])},`,
      `      permissions: {`,
      `        publish: { allow: ${list(p.publish.allow)}, deny: ${list(p.publish.deny)} }`,
      `        subscribe: { allow: ${list(p.subscribe.allow)}, deny: ${list(p.subscribe.deny)} }`,
      ...(p.allowResponses ? ['        allow_responses: true'] : []),
      `      } }`,
    ].join('\n');
  });
  return [
    '# Written by npm start (scripts/dev-nats.ts) on every start; passwords are in dev-secrets.json.',
    `listen: "127.0.0.1:${c.port}"`,
    `jetstream { store_dir: ${q(c.storeDir)} }`,
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
