/**
 * The ops view (docs/operations.md): what an operator needs to see without SQL or the NATS CLI.
 *
 * - Every service instance reports a health snapshot — ready, outbox backlog and the age of its oldest
 *   unpublished event, parked events, each durable consumer's pending and ack-pending counts — every
 *   few seconds, as Prometheus gauges on its own `/metrics` and into the NATS KV bucket
 *   `<PREFIX>_EVENTS_OPS` under `<service>.<instance>` (the bucket forgets an instance that stopped
 *   reporting). No personal data: counts, ages, consumer names.
 * - Every service answers requests about its own parked events on `<prefix>.ops.<service>.parked.*`
 *   (one instance per request, a queue group): a list without payloads, and a replay through the
 *   consumer that parked it. A request carries the caller's actor token from the gateway (for the ops view's service),
 *   and the answering service checks the role itself.
 * - One subgraph (subjects) serves `platformHealth`, `parkedEvents` and `replayParkedEvent`,
 *   assembling the four services' snapshots and answers (`OpsView`, `opsResolvers`).
 *
 * One job per file under ops/: `common` (services, snapshot schema, the parked-events protocol),
 * `health-reporter`, `responder` (a service's parked events), `view` and `resolvers` (the subgraph's).
 */
export {
  OPS_SERVICES,
  OPS_VIEW_SERVICE,
  opsBucket,
  instanceId,
  healthSnapshotSchema,
  snapshotTtlMs,
  type OpsService,
  type HealthSnapshot,
  type ConsumerHealth,
  type ParkedEventView,
} from './ops/common';
export { HealthReporter, type HealthReporterOptions } from './ops/health-reporter';
export { OpsResponder, type OpsResponderOptions } from './ops/responder';
export { OpsView, UnavailableError, type OpsViewOptions, type PlatformHealthView, type ServiceHealthView } from './ops/view';
export { opsResolvers, OPS_ARGUMENT_IDS, OPS_ARGUMENT_TEXTS, OPS_PAGE_MAXIMA } from './ops/resolvers';
