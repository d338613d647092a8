import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

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
  help: 'Events handled by a consumer, by outcome (applied, duplicate, retried, parked)',
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
