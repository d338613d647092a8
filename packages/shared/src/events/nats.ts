import { connect, Events, RetentionPolicy, StorageType, type JetStreamManager, type NatsConnection, type StreamConfig } from 'nats';
import type { ServiceName } from './catalog';
import { streamName } from './envelope';
import { natsConnectOptions } from './nats-credentials';
import { handoffStreamName } from './handoff';

/**
 * A service's own inbox prefix (`_INBOX_<service>`): where JetStream's API answers, publish acks and
 * pulled events reach it. Each NATS user may subscribe only under its own (scripts/dev-nats.ts), so
 * no service sees another's deliveries — nor, answering them, acknowledges them for it.
 */
export function natsInboxPrefix(service: ServiceName): string {
  return `_INBOX_${service}`;
}

export async function connectNats(url: string, name: string, options: { inboxPrefix?: string } = {}): Promise<NatsConnection> {
  // Credentials in the URL become options: nats.js would ignore them there, and quote the URL in errors.
  // No async traces: nats.js would otherwise capture a stack (an Error) on every request — each
  // publish the relay makes, each hand-off read — to append to a failure's stack that our logs never
  // print (safeError keeps name and message only).
  return connect({ ...natsConnectOptions(url), name, maxReconnectAttempts: -1, reconnectTimeWait: 500, noAsyncTraces: true, ...options });
}

/**
 * Whether a connection is up right now. While NATS is down, nats.js buffers requests until they time
 * out (seconds); a readiness check asks this first, so it answers "not ready" at once.
 */
export function connectionState(nc: NatsConnection): { connected(): boolean } {
  let connected = !nc.isClosed();
  void (async () => {
    for await (const status of nc.status()) {
      if (status.type === Events.Disconnect) connected = false;
      else if (status.type === Events.Reconnect) connected = true;
    }
  })().catch(() => undefined);
  return { connected: () => connected && !nc.isClosed() };
}

/** How the platform's streams are kept: replicas (1 on one server, 3 on a three-node cluster). */
export interface StreamOptions {
  replicas?: number;
}

const SECOND_NS = 1_000_000_000;
/** A consumer may be down this long and still catch up; nothing older is kept. */
const MAX_AGE_NS = 7 * 24 * 3600 * SECOND_NS;

/** Creates the event stream when missing. Idempotent, so every service may call it on start. */
export async function ensureStream(jsm: JetStreamManager, prefix: string, options: StreamOptions = {}): Promise<string> {
  return ensure(jsm, {
    num_replicas: options.replicas ?? 1,
    name: streamName(prefix),
    subjects: [`${prefix}.events.>`],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    duplicate_window: 2 * 60 * SECOND_NS, // msgID dedup for relay retries
    // Events carry no personal data, not even sealed (hand-offs do, in their own stream).
    max_age: MAX_AGE_NS,
  });
}

/**
 * Creates the hand-off stream when missing: `<prefix>.handoff.<recipient>.<id>`, one message per
 * subject (a relay's late retry replaces, never adds), kept as long as the events that refer to
 * them. Recipients erase a hand-off once they have stored it, erasure acts erase the rest; read
 * through the stream leader (`STREAM.MSG.GET`), never a lagging replica.
 */
export async function ensureHandoffStream(jsm: JetStreamManager, prefix: string, options: StreamOptions = {}): Promise<string> {
  return ensure(jsm, {
    num_replicas: options.replicas ?? 1,
    name: handoffStreamName(prefix),
    subjects: [`${prefix}.handoff.>`],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    duplicate_window: 2 * 60 * SECOND_NS,
    max_age: MAX_AGE_NS,
    max_msgs_per_subject: 1,
  });
}

async function ensure(jsm: JetStreamManager, config: Partial<StreamConfig> & { name: string }): Promise<string> {
  try {
    await jsm.streams.info(config.name);
  } catch {
    try {
      await jsm.streams.add(config);
    } catch (err) {
      // Another service created it between our check and add.
      await jsm.streams.info(config.name).catch(() => {
        throw err;
      });
    }
  }
  return config.name;
}
