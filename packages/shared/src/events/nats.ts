import { connect, RetentionPolicy, StorageType, type JetStreamManager, type NatsConnection } from 'nats';
import { streamName } from './envelope';

export async function connectNats(url: string, name: string): Promise<NatsConnection> {
  return connect({ servers: url, name, maxReconnectAttempts: -1, reconnectTimeWait: 500 });
}

/** Creates the event stream when missing. Idempotent, so every service may call it on start. */
export async function ensureStream(jsm: JetStreamManager, prefix: string): Promise<string> {
  const name = streamName(prefix);
  try {
    await jsm.streams.info(name);
  } catch {
    try {
      await jsm.streams.add({
        name,
        subjects: [`${prefix}.events.>`],
        retention: RetentionPolicy.Limits,
        storage: StorageType.File,
        duplicate_window: 2 * 60 * 1_000_000_000, // 2 min, in ns: msgID dedup for relay retries
        // Bounds how long sealed copies of personal data stay in the stream after an erasure.
        max_age: 7 * 24 * 3600 * 1_000_000_000,
      });
    } catch (err) {
      // Another service created it between our check and add.
      await jsm.streams.info(name).catch(() => {
        throw err;
      });
    }
  }
  return name;
}
