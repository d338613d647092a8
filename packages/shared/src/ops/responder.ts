/** Each service answers ops requests about its own parked events (see ../ops.ts). */
import type { Kysely } from 'kysely';
import type { Msg, NatsConnection, Subscription } from 'nats';
import { z } from 'zod';
import { hasAnyRole, type Actor, type ActorTokenVerifier } from '../auth/actor';
import { rolesFor } from '../auth/permissions';
import { isEventType } from '../events/catalog';
import type { EventConsumer } from '../events/consumer';
import type { PlatformTables } from '../events/migrations';
import { safeError, scrubText, type Logger } from '../logger';

import { type OpsService, OPS_VIEW_SERVICE, opsSubject, json, type ParkedEventView, listRequest, replayRequest, opsReply } from './common';

export interface OpsResponderOptions {
  nc: NatsConnection;
  prefix: string;
  service: OpsService;
  db: Kysely<any>;
  consumers: EventConsumer[];
  /** Checks the caller's actor token that the ops view forwarded (its audience is the ops view's service). */
  actorTokens: ActorTokenVerifier;
  logger: Logger;
}

/**
 * Answers ops requests about this service's parked events; one instance of the service answers each
 * (queue group). The caller's role is checked here again, from the signed actor token in the request.
 */
export class OpsResponder {
  private subs: Subscription[] = [];

  constructor(private readonly opts: OpsResponderOptions) {}

  start(): void {
    const { nc, prefix, service } = this.opts;
    const queue = `ops-${service}`;
    this.subs = [
      nc.subscribe(opsSubject(prefix, service, 'list'), {
        queue,
        callback: (err, msg) => void (err ? undefined : this.answer(msg, (body) => this.list(body))),
      }),
      nc.subscribe(opsSubject(prefix, service, 'replay'), {
        queue,
        callback: (err, msg) => void (err ? undefined : this.answer(msg, (body) => this.replay(body))),
      }),
    ];
  }

  async stop(): Promise<void> {
    for (const sub of this.subs) sub.unsubscribe();
    this.subs = [];
  }

  private async answer(msg: Msg, work: (body: unknown) => Promise<z.infer<typeof opsReply>>): Promise<void> {
    let reply: z.infer<typeof opsReply>;
    try {
      reply = await work(json.decode(msg.data));
    } catch (err) {
      this.opts.logger.error({ err: safeError(err) }, 'ops request failed');
      reply = { ok: false, code: 'UNAVAILABLE' };
    }
    if (msg.reply) msg.respond(json.encode(reply));
  }

  private async authorize(token: string): Promise<{ actor: Actor; requestId: string } | null> {
    try {
      const { actor, meta } = this.opts.actorTokens.verify(token, OPS_VIEW_SERVICE);
      // The permission table's roles for parked events (OPS), checked again by the service that holds them.
      return hasAnyRole(actor, rolesFor('Query.parkedEvents')) && hasAnyRole(actor, rolesFor('Mutation.replayParkedEvent'))
        ? { actor, requestId: meta.requestId }
        : null;
    } catch {
      return null;
    }
  }

  private get db() {
    return this.opts.db as Kysely<PlatformTables>;
  }

  private view(row: {
    id: string;
    consumer: string;
    event_id: string | null;
    subject: string;
    error: string;
    deliveries: number;
    parked_at: Date;
    resolved_at: Date | null;
  }): ParkedEventView {
    const eventsPrefix = `${this.opts.prefix}.events.`;
    const type = row.subject.startsWith(eventsPrefix) ? row.subject.slice(eventsPrefix.length) : '';
    return {
      id: row.id,
      service: this.opts.service,
      consumer: row.consumer,
      eventId: row.event_id !== null && /^[0-9a-f-]{36}$/i.test(row.event_id) ? row.event_id : null,
      type: isEventType(type) ? type : null,
      // Parked errors are already scrubbed (safeError); once more, in case an older row was not.
      error: scrubText(row.error).slice(0, 500),
      deliveries: row.deliveries,
      parkedAt: row.parked_at.toISOString(),
      resolvedAt: row.resolved_at ? row.resolved_at.toISOString() : null,
    };
  }

  private columns = ['id', 'consumer', 'event_id', 'subject', 'error', 'deliveries', 'parked_at', 'resolved_at'] as const;

  private async list(body: unknown): Promise<z.infer<typeof opsReply>> {
    const parsed = listRequest.safeParse(body);
    if (!parsed.success) return { ok: false, code: 'BAD_USER_INPUT' };
    if (!(await this.authorize(parsed.data.token))) return { ok: false, code: 'FORBIDDEN' };
    const rows = await this.db
      .selectFrom('parked_events')
      .select([...this.columns])
      .where('resolved_at', 'is', null)
      .orderBy('id', 'desc')
      .limit(parsed.data.first)
      .execute();
    return { ok: true, items: rows.map((r) => this.view(r)) };
  }

  private async replay(body: unknown): Promise<z.infer<typeof opsReply>> {
    const parsed = replayRequest.safeParse(body);
    if (!parsed.success) return { ok: false, code: 'BAD_USER_INPUT' };
    const caller = await this.authorize(parsed.data.token);
    if (!caller) return { ok: false, code: 'FORBIDDEN' };
    const row = await this.db
      .selectFrom('parked_events')
      .select(['id', 'consumer', 'event_id', 'subject', 'payload'])
      .where('id', '=', parsed.data.id)
      .where('resolved_at', 'is', null)
      .executeTakeFirst();
    const consumer = row && this.opts.consumers.find((c) => c.name === row.consumer);
    if (!row || !consumer) return { ok: false, code: 'NOT_FOUND' };
    const outcome = await consumer.replay(row, caller.actor, caller.requestId);
    this.opts.logger.info({ parkedId: row.id, consumer: row.consumer, eventId: row.event_id, outcome, actor: caller.actor.id }, 'parked event replayed');
    const after = await this.db
      .selectFrom('parked_events')
      .select([...this.columns])
      .where('id', '=', row.id)
      .executeTakeFirstOrThrow();
    return { ok: true, item: this.view(after), outcome };
  }
}
