import type { Kysely, Transaction } from 'kysely';
import { AckPolicy, DeliverPolicy, type ConsumerMessages, type JetStreamClient, type JetStreamManager, type JsMsg } from 'nats';
import { safeError, type Logger } from '../logger';
import { eventsConsumed } from '../metrics';
import type { EventType } from './catalog';
import { parseEnvelope, type Envelope } from './envelope';
import type { PlatformTables } from './migrations';

/** Thrown by a handler whose preconditions are not met yet (e.g. an event it depends on is late). */
export class NotReadyError extends Error {
  override name = 'NotReadyError';
}

/** Thrown by a handler for an event that can never be applied (bad data): parked at once, no retries. */
export class PermanentError extends Error {
  override name = 'PermanentError';
}

export type EventHandler = (trx: Transaction<any>, event: Envelope) => Promise<void>;

export interface ConsumerSpec {
  /** Durable name: `<service>-<purpose>`. */
  name: string;
  types: EventType[] | 'all';
  handle: EventHandler;
}

export interface ConsumerOptions {
  db: Kysely<any>;
  js: JetStreamClient;
  jsm: JetStreamManager;
  stream: string;
  prefix: string;
  logger: Logger;
  /** After this many failed deliveries a message is parked for ops. */
  maxAttempts?: number;
  ackWaitMs?: number;
}

export function backoffMs(deliveryCount: number): number {
  return Math.min(30_000, 250 * 2 ** Math.max(0, deliveryCount - 1));
}

/**
 * A durable pull consumer with an inbox: the handler's effect and the inbox row (consumer, event id)
 * commit in one transaction, and only then is the message acked. A redelivered or duplicated event
 * finds its inbox row and changes nothing. Failures are nak'ed with exponential backoff; after
 * `maxAttempts` (or at once for a malformed message) the message is parked in `parked_events`.
 */
export class EventConsumer {
  private messages: ConsumerMessages | null = null;
  private loop: Promise<void> | null = null;
  private accepts: (type: string) => boolean = () => true;

  constructor(private readonly spec: ConsumerSpec, private readonly opts: ConsumerOptions) {}

  async start(): Promise<void> {
    const { jsm, stream, prefix } = this.opts;
    // One filter subject only: the NATS 2.9 of the project's machines has no `filter_subjects`. A
    // consumer of several types reads the whole stream in order and acks the others unhandled.
    const types = this.spec.types;
    const filter_subject = types !== 'all' && types.length === 1 ? `${prefix}.events.${types[0]}` : `${prefix}.events.>`;
    this.accepts = types === 'all' ? () => true : (type) => (types as string[]).includes(type);
    const ack_wait = (this.opts.ackWaitMs ?? 30_000) * 1_000_000;
    const exists = await jsm.consumers.info(stream, this.spec.name).then(
      () => true,
      () => false,
    );
    if (exists) {
      // Another instance may run the older configuration; a failed update must not stop this one.
      await jsm.consumers.update(stream, this.spec.name, { filter_subject, ack_wait }).catch((err: unknown) => {
        this.opts.logger.warn({ err: describe(err), consumer: this.spec.name }, 'consumer configuration not updated');
      });
    } else {
      await jsm.consumers.add(stream, {
        durable_name: this.spec.name,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.All,
        ack_wait,
        max_deliver: -1,
        filter_subject,
      });
    }
    const consumer = await this.opts.js.consumers.get(stream, this.spec.name);
    this.messages = await consumer.consume({ max_messages: 256 });
    this.loop = this.run(this.messages);
  }

  async stop(): Promise<void> {
    await this.messages?.close();
    await this.loop;
  }

  private async run(messages: ConsumerMessages): Promise<void> {
    for await (const msg of messages) {
      try {
        await this.process(msg);
      } catch (err) {
        // The database is unreachable even for parking: leave the message unacked, it comes back.
        this.opts.logger.error({ err: describe(err), consumer: this.spec.name }, 'event left for redelivery');
      }
    }
  }

  private async process(msg: JsMsg): Promise<void> {
    const consumer = this.spec.name;
    let event: Envelope;
    try {
      event = parseEnvelope(msg.json());
    } catch (err) {
      await this.park(msg, null, err);
      return;
    }
    if (!this.accepts(event.type)) {
      msg.ack();
      return;
    }
    try {
      const applied = await this.apply(event);
      msg.ack();
      eventsConsumed.inc({ consumer, outcome: applied ? 'applied' : 'duplicate' });
    } catch (err) {
      const attempts = msg.info.deliveryCount;
      const exhausted = !(err instanceof NotReadyError) && attempts >= (this.opts.maxAttempts ?? 8);
      if (err instanceof PermanentError || exhausted) {
        await this.park(msg, event.id, err);
        return;
      }
      this.opts.logger.warn({ err: describe(err), consumer, eventId: event.id, type: event.type, attempts }, 'event handling failed; retrying');
      eventsConsumed.inc({ consumer, outcome: 'retried' });
      msg.nak(backoffMs(attempts));
    }
  }

  /** Returns false when the event was already processed (duplicate or redelivery). */
  private async apply(event: Envelope): Promise<boolean> {
    const db = this.opts.db as Kysely<PlatformTables>;
    return db.transaction().execute(async (trx) => {
      const fresh = await trx
        .insertInto('inbox')
        .values({ consumer: this.spec.name, event_id: event.id, event_type: event.type })
        .onConflict((oc) => oc.columns(['consumer', 'event_id']).doNothing())
        .returning('event_id')
        .executeTakeFirst();
      if (!fresh) return false;
      await this.spec.handle(trx, event);
      return true;
    });
  }

  private async park(msg: JsMsg, eventId: string | null, err: unknown): Promise<void> {
    const db = this.opts.db as Kysely<PlatformTables>;
    await db
      .insertInto('parked_events')
      .values({
        consumer: this.spec.name,
        event_id: eventId,
        subject: msg.subject,
        payload: msg.string(),
        error: describe(err),
        deliveries: msg.info.deliveryCount,
        resolved_at: null,
      })
      .execute();
    msg.term();
    eventsConsumed.inc({ consumer: this.spec.name, outcome: 'parked' });
    this.opts.logger.error({ consumer: this.spec.name, eventId, subject: msg.subject }, 'event parked for ops');
  }
}

/** For logs and the parked row: name and message only. */
function describe(err: unknown): string {
  const { name, message } = safeError(err);
  return `${name}: ${message}`;
}
