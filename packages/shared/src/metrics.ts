import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** One registry per process; each service and the gateway expose it on GET /metrics (no PD). */
export const registry = new Registry();
collectDefaultMetrics({ register: registry });

export const eventsRelayed = new Counter({
  name: 'pdp_events_relayed_total',
  help: 'Outbox events published to JetStream',
  labelNames: ['service'],
  registers: [registry],
});

export const eventsConsumed = new Counter({
  name: 'pdp_events_consumed_total',
  help: 'Events handled by a consumer, by outcome (applied, duplicate, retried, parked, rejected, replayed, recovered)',
  labelNames: ['consumer', 'outcome'],
  registers: [registry],
});

export const graphqlDuration = new Histogram({
  name: 'pdp_graphql_request_seconds',
  help: 'GraphQL request duration',
  labelNames: ['service'],
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
  registers: [registry],
});

// The ops view (docs/operations.md, "Monitor"): figures each service reports about itself, refreshed
// by its health reporter every few seconds. Several instances of a service share one database, so
// they report the same outbox and parked figures: aggregate with max by (service).

export const serviceReady = new Gauge({
  name: 'pdp_service_ready',
  help: '1 while this instance is ready (database and JetStream answer), else 0',
  labelNames: ['service'],
  registers: [registry],
});

export const outboxBacklog = new Gauge({
  name: 'pdp_outbox_backlog',
  help: 'Outbox rows not yet published to JetStream',
  labelNames: ['service'],
  registers: [registry],
});

export const outboxOldestUnpublished = new Gauge({
  name: 'pdp_outbox_oldest_unpublished_seconds',
  help: 'Age of the oldest outbox row not yet published (0 when none)',
  labelNames: ['service'],
  registers: [registry],
});

export const parkedEventsGauge = new Gauge({
  name: 'pdp_parked_events',
  help: 'Parked events not yet resolved (replayed or dismissed)',
  labelNames: ['service'],
  registers: [registry],
});

export const consumerPending = new Gauge({
  name: 'pdp_consumer_pending',
  help: 'Messages of the stream a durable consumer has not been delivered yet (its lag)',
  labelNames: ['consumer'],
  registers: [registry],
});

export const consumerAckPending = new Gauge({
  name: 'pdp_consumer_ack_pending',
  help: 'Messages delivered to a durable consumer and not yet acknowledged',
  labelNames: ['consumer'],
  registers: [registry],
});

export const outboxListenerUp = new Gauge({
  name: 'pdp_outbox_listener_up',
  help: '1 while the outbox relay is subscribed (LISTEN) to commits; 0 while it only polls',
  labelNames: ['service'],
  registers: [registry],
});

export const outboxPublishDelay = new Histogram({
  name: 'pdp_outbox_publish_delay_seconds',
  help: 'Time from an event entering the outbox to its publication on JetStream',
  labelNames: ['service'],
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  registers: [registry],
});

// Field encryption (docs/security.md, "Data at rest"; docs/operations.md, "Field keys").

export const fieldsUnreadable = new Counter({
  name: 'pdp_field_unreadable_total',
  help: 'Stored ciphertexts that did not open where they were read (tampered, moved from another row, an unlisted key, a retired format)',
  labelNames: ['service', 'table', 'column', 'reason'],
  registers: [registry],
});

export const fieldReencryptionPending = new Gauge({
  name: 'pdp_field_reencryption_pending',
  help: 'Rows of an encrypted table holding a value not yet under the first key of PD_ENCRYPTION_KEYS in format v2, as the re-encryption job last counted',
  labelNames: ['service', 'table'],
  registers: [registry],
});

export const outboxResent = new Counter({
  name: 'pdp_outbox_resent_total',
  help: 'Published outbox rows the stream no longer had, sent again (events/keeper.ts)',
  labelNames: ['service', 'kind'],
  registers: [registry],
});

export const consumerRestarts = new Counter({
  name: 'pdp_consumer_restarts_total',
  help: 'Durable consumers whose message loop ended or stalled and was started again',
  labelNames: ['consumer'],
  registers: [registry],
});
