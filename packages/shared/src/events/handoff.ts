import { createHash, randomUUID } from 'node:crypto';
import { sql, type Kysely, type Transaction } from 'kysely';
import type { JetStreamClient, JetStreamManager } from 'nats';
import type { z } from 'zod';
import { safeError, type Logger } from '../logger';
import { seal, unseal } from '../seal';
import { PD_HOLDERS, type HandoffRef, type PdHolder, type ServiceName } from './catalog';
import { NotReadyError, PermanentError } from './consumer';
import { streamName } from './envelope';
import type { PlatformTables } from './migrations';

/**
 * Hand-offs: personal data one service must give another (the intake form's IIN to subjects, the
 * consent evidence to consents, a corrected phone or e-mail to appeals) never travel in the event
 * stream, not even sealed. The sender seals the value to the one recipient and writes it into its
 * outbox, in the same transaction as the event, on its own subject `<prefix>.handoff.<to>.<id>` (`id`
 * = the appeal or rectification request); the relay publishes it to the hand-off stream before the
 * event. The event carries only `{ to, id, sha256 }`.
 *
 * The recipient reads the hand-off by subject, checks the digest, opens it and, once its transaction
 * has committed, erases it from the stream. The sender keeps its (sealed) row until the recipient's
 * own event says the value is stored (`settle`), and sends it again when the stream lost it
 * (keeper.ts): a recipient that finds no hand-off waits for it rather than storing nothing.
 *
 * Erasure of a subject erases every hand-off of the subject's appeals and requests (from the outbox
 * and from the stream) and leaves in its place a marker that says so, with no data: a recipient that
 * finds the marker stores nothing, at once. So after an erasure act nothing anywhere opens to the
 * person's data, and a hand-off that is merely missing is never taken for an erased one.
 */

const HANDOFF_TOKEN = 'handoff';

/** `<PREFIX>_EVENTS_HANDOFF`: named under the events stream so whatever removes a run's streams removes it too. */
export function handoffStreamName(prefix: string): string {
  return `${streamName(prefix)}_HANDOFF`;
}

export function handoffSubject(prefix: string, to: PdHolder, id: string): string {
  return `${prefix}.${HANDOFF_TOKEN}.${to}.${id}`;
}

/**
 * The hand-offs a sender keeps until their recipient's own event confirms them (`settle`): those whose
 * confirming event the sender consumes — appeals: the identity (`subject.appeal_linked`) and the
 * evidence (`consent.recorded` of the appeal); subjects: a corrected value (`rectification.applied`).
 * Any other (subjects' signed-consent references to consents) is deleted once published, as before:
 * no event tells its sender that it was stored, and a kept copy would be sent again after its
 * recipient had read and erased it.
 */
export const CONFIRMED_HANDOFFS: Partial<Record<ServiceName, readonly PdHolder[]>> = {
  appeals: ['subjects', 'consents'],
  subjects: ['appeals'],
};

/** The recipient a hand-off subject names (`<prefix>.handoff.<to>.<id>`). */
export function handoffRecipient(subject: string): string {
  return subject.split('.')[2] ?? '';
}

/** True for an outbox row that is a hand-off rather than an event (the prefix has no dots). */
export function isHandoffSubject(subject: string): boolean {
  return subject.split('.', 2)[1] === HANDOFF_TOKEN;
}

export interface SealedHandoff<To extends PdHolder = PdHolder> {
  ref: HandoffRef & { to: To };
  sealed: string;
}

/** What the hand-off stream holds for one reference: the sealed value, or the marker of its erasure. */
interface HandoffMessage {
  sealed?: string;
  erased?: true;
}

/** The erasure marker's body: no data, only that the value was erased. */
const TOMBSTONE = JSON.stringify({ erased: true } satisfies HandoffMessage);

/** True for the marker an erasure leaves on a hand-off's subject. */
export function isTombstone(data: Uint8Array): boolean {
  try {
    return (JSON.parse(new TextDecoder().decode(data)) as HandoffMessage).erased === true;
  } catch {
    return false;
  }
}

/** The message body of a hand-off (JSON). */
export function handoffMessage(handoff: SealedHandoff): HandoffMessage {
  return { sealed: handoff.sealed };
}

function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** Seals a value to one recipient (outside any transaction: ECDH is CPU work, not database work). */
export async function sealHandoff<To extends PdHolder>(to: To, id: string, value: unknown, recipientPublicJwk: string): Promise<SealedHandoff<To>> {
  const sealed = await seal(value, recipientPublicJwk);
  return { ref: { to, id, sha256: sha256(sealed) }, sealed };
}

/** Outbox rows for hand-offs, for a caller that writes them in one statement with its own row. */
export function handoffOutboxRows(prefix: string, handoffs: SealedHandoff[]) {
  return handoffs.map((h) => ({
    id: randomUUID(),
    subject: handoffSubject(prefix, h.ref.to, h.ref.id),
    payload: JSON.stringify(handoffMessage(h)),
    published_at: null,
  }));
}

/**
 * Writes hand-offs into the outbox inside the caller's transaction. Write them before the event that
 * refers to them, in the same transaction; the event's enqueue wakes the relay.
 */
export async function enqueueHandoffs(trx: Transaction<any> | Kysely<any>, prefix: string, handoffs: SealedHandoff[]): Promise<void> {
  if (handoffs.length === 0) return;
  await (trx as Kysely<PlatformTables>).insertInto('outbox').values(handoffOutboxRows(prefix, handoffs)).execute();
}

export interface HandoffsOptions {
  /** The service these are for: it opens only hand-offs addressed to it. */
  service: ServiceName;
  db: Kysely<any>;
  jsm: JetStreamManager;
  /** Publishes erasure markers (a service that erases hand-offs). */
  js?: JetStreamClient;
  prefix: string;
  /** The hand-off stream (see `ensureHandoffStream`). */
  stream: string;
  logger: Logger;
}

interface PendingRemoval {
  txid: string;
  seq: number;
  /** The hand-off's subject: what must still be at `seq` for the removal to go ahead. */
  subject: string;
  since: number;
}

/** The hand-off stream's age limit (nats.ts): a hand-off older than this is gone for good. */
const HANDOFF_MAX_AGE_MS = 7 * 24 * 3600_000;

/** A transaction that has not ended after this long is given up on; its redelivery schedules again. */
const PENDING_GIVE_UP_MS = 10 * 60_000;

/** Whether a JetStream message read (or delete) failed because there is no such message. */
export function isMessageNotFound(err: unknown): boolean {
  const code = (err as { api_error?: { err_code?: number }; code?: unknown })?.api_error?.err_code;
  // 10037: no message found (get); 10057: no message found (delete, already gone).
  return code === 10037 || code === 10057 || (err instanceof Error && /no message found/i.test(err.message));
}

/** A service's access to hand-offs: open those addressed to it, and erase any on erasure. */
export class Handoffs {
  private pending: PendingRemoval[] = [];
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> | null = null;
  private delayMs = 20;
  private stopped = false;

  constructor(private readonly opts: HandoffsOptions) {}

  /**
   * Reads the hand-off an event refers to, checks it against the event's digest and opens it with
   * this service's private key; `schema` checks what it holds. Returns null when it was erased (the
   * erasure's marker is there), or when the event is older than the stream keeps anything (`sentAt`):
   * the caller stores nothing. A hand-off that is simply not there — lost in a NATS crash, or not
   * yet published — throws `NotReadyError`: the event is retried until the sender has sent it again
   * (keeper.ts). The hand-off is erased from the stream once `trx` has committed.
   */
  async open<T>(trx: Transaction<any>, ref: HandoffRef, privateJwk: string, schema: z.ZodType<T>, sentAt?: string): Promise<T | null> {
    if (ref.to !== this.opts.service) throw new PermanentError('hand-off addressed to another service');
    const subject = handoffSubject(this.opts.prefix, ref.to, ref.id);
    let stored: { seq: number; data: Uint8Array };
    try {
      stored = await this.opts.jsm.streams.getMessage(this.opts.stream, { last_by_subj: subject });
    } catch (err) {
      if (!isMessageNotFound(err)) throw err;
      if (sentAt && Date.now() - Date.parse(sentAt) > HANDOFF_MAX_AGE_MS) {
        this.opts.logger.warn({ handoff: { to: ref.to, id: ref.id } }, 'hand-off expired (older than the stream keeps): nothing stored');
        return null;
      }
      this.opts.logger.warn({ handoff: { to: ref.to, id: ref.id } }, 'hand-off missing (not erased): waiting for its sender to send it again');
      throw new NotReadyError('hand-off missing; its sender sends it again');
    }
    if (isTombstone(stored.data)) {
      this.opts.logger.info({ handoff: { to: ref.to, id: ref.id } }, 'hand-off erased: nothing stored');
      return null;
    }
    let sealed: string;
    try {
      sealed = (JSON.parse(new TextDecoder().decode(stored.data)) as HandoffMessage).sealed as string;
    } catch {
      throw new PermanentError('hand-off is not readable');
    }
    if (typeof sealed !== 'string' || sha256(sealed) !== ref.sha256) throw new PermanentError('hand-off does not match the digest in its event');
    let opened: unknown;
    try {
      opened = await unseal<unknown>(sealed, privateJwk);
    } catch {
      throw new PermanentError('hand-off cannot be opened with this service key');
    }
    const parsed = schema.safeParse(opened);
    // The issues may quote the value: only say that it is wrong.
    if (!parsed.success) throw new PermanentError('hand-off does not hold what its event says');
    this.schedule({ txid: await this.txidOf(trx), seq: stored.seq, subject, since: Date.now() });
    return parsed.data;
  }

  /** The reading transaction's id, asked once per transaction (a consumer's batch opens many hand-offs in one). */
  private readonly txids = new WeakMap<Transaction<any>, Promise<string>>();
  private txidOf(trx: Transaction<any>): Promise<string> {
    let txid = this.txids.get(trx);
    if (!txid) {
      txid = sql<{ txid: string }>`select txid_current()::text as txid`.execute(trx).then(({ rows }) => rows[0]!.txid);
      this.txids.set(trx, txid);
    }
    return txid;
  }

  /**
   * The recipient stored the hand-off (its own event says so): the sender forgets its row. A row that
   * was sent again may have left a second copy in the stream; it goes too.
   */
  async settle(trx: Transaction<any>, to: PdHolder, id: string): Promise<void> {
    const subject = handoffSubject(this.opts.prefix, to, id);
    const gone = await (trx as unknown as Kysely<PlatformTables>).deleteFrom('outbox').where('subject', '=', subject).returning('resends').execute();
    if (gone.some((r) => r.resends > 0)) {
      await this.opts.jsm.streams.purge(this.opts.stream, { filter: subject }).catch((err: unknown) => {
        this.opts.logger.warn({ err: safeError(err), handoff: { to, id } }, 'copy of a hand-off sent again not removed; erasure or the age limit will');
      });
    }
  }

  /**
   * Erasure's safety net: every hand-off of these resources (appeals, rectification requests) goes —
   * every row of it from this service's outbox, published or not (in `trx`; waits for a relay that
   * holds them), then any copy in the stream, overwritten on disk — and an erasure marker takes its
   * place, so that a recipient that has not read it yet stores nothing rather than waiting for it.
   * Idempotent, so it runs before the caller commits.
   */
  async erase(trx: Transaction<any>, ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    const subjects = ids.flatMap((id) => PD_HOLDERS.map((to) => handoffSubject(this.opts.prefix, to, id)));
    await (trx as unknown as Kysely<PlatformTables>).deleteFrom('outbox').where('subject', 'in', subjects).execute();
    const { jsm, stream } = this.opts;
    await Promise.all(
      subjects.map(async (subject) => {
        try {
          const { seq } = await jsm.streams.getMessage(stream, { last_by_subj: subject });
          await jsm.streams.deleteMessage(stream, seq, true);
        } catch (err) {
          if (!isMessageNotFound(err)) throw err;
        }
      }),
    );
    // Anything that replaced what was just found (a relay's late retry) goes too.
    await Promise.all(ids.map((id) => jsm.streams.purge(stream, { filter: `${this.opts.prefix}.${HANDOFF_TOKEN}.*.${id}` })));
    const js = this.opts.js;
    if (js) await Promise.all(subjects.map((subject) => js.publish(subject, TOMBSTONE)));
  }

  /** Waits (briefly) for scheduled removals, e.g. on shutdown. */
  async stop(timeoutMs = 2_000): Promise<void> {
    this.stopped = true;
    const deadline = Date.now() + timeoutMs;
    while (this.pending.length > 0 && Date.now() < deadline) {
      await this.flush();
      if (this.pending.length > 0) await new Promise((r) => setTimeout(r, 20));
    }
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private schedule(removal: PendingRemoval): void {
    this.pending.push(removal);
    this.delayMs = 20;
    this.arm();
  }

  private arm(): void {
    if (this.timer || this.stopped || this.pending.length === 0) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.flush().finally(() => this.arm());
    }, this.delayMs);
    this.timer.unref?.();
  }

  /** Erases the hand-offs whose reading transaction committed; forgets those whose transaction rolled back. */
  private async flush(): Promise<void> {
    if (!this.flushing) {
      this.flushing = this.flushOnce().finally(() => {
        this.flushing = null;
      });
    }
    return this.flushing;
  }

  private async flushOnce(): Promise<void> {
    const batch = this.pending.splice(0);
    if (batch.length === 0) return;
    const keep: PendingRemoval[] = [];
    try {
      const { rows } = await sql<{ txid: string; status: string | null }>`
        select t as txid, txid_status(t::bigint) as status from unnest(${batch.map((p) => p.txid)}::text[]) as t`.execute(this.opts.db);
      const status = new Map(rows.map((r) => [r.txid, r.status]));
      await Promise.all(
        batch.map(async (p) => {
          const s = status.get(p.txid);
          if (s === 'in progress') {
            if (Date.now() - p.since < PENDING_GIVE_UP_MS) keep.push(p);
            return;
          }
          if (s !== 'committed') return; // rolled back: the redelivery reads it again
          try {
            // Only the hand-off that was read: a NATS server that lost its last writes in a crash
            // gives their sequence numbers to new messages, and a removal waiting out the outage
            // would otherwise erase another appeal's hand-off before its recipient read it.
            const current = await this.opts.jsm.streams.getMessage(this.opts.stream, { seq: p.seq });
            if (current.subject !== p.subject) return;
            await this.opts.jsm.streams.deleteMessage(this.opts.stream, p.seq, true);
          } catch (err) {
            if (!isMessageNotFound(err)) keep.push(p);
          }
        }),
      );
      this.delayMs = keep.length > 0 ? Math.min(this.delayMs * 2, 5_000) : 20;
    } catch (err) {
      // Database or NATS unreachable: try again later; erasure removes what is left in any case.
      this.opts.logger.warn({ err: safeError(err) }, 'hand-off removal postponed');
      keep.push(...batch.filter((p) => Date.now() - p.since < PENDING_GIVE_UP_MS));
      this.delayMs = Math.min(this.delayMs * 2, 5_000);
    }
    this.pending.push(...keep);
  }
}
