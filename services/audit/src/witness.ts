import { buildEnvelope, isMessageNotFound, natsSubject, parseEnvelope, safeError, type Envelope } from '@pdp/shared';
import type { Deps } from './config';
import { checkpointSignatureValid, type Checkpoint } from './domain/chain';
import { checkpointEventId } from './domain/head';

/** Who publishes the witness: the audit's checkpointing, not a person. */
const WITNESS_ACTOR = { id: 'system:audit-checkpoint', roles: [] as string[] };

/**
 * The stream keeps events 7 days: the newest checkpoint is published again after a day without a
 * new one, so the stream always holds it, however quiet the audit is.
 */
const REPUBLISH_MS = 24 * 3_600_000;

/**
 * The audit's checkpoints outside its database: each one it signs is also published on the event
 * stream as `audit.checkpointed` (straight to JetStream, not through the outbox, which is in the
 * database this witness must not depend on). Someone with only the database login can neither
 * remove nor forge these: the newest one is what the audit compares its database against after a
 * restart, what `verifyAuditChain` adds to the checkpoints it checks, and what the export includes.
 */
export class Witness {
  private last: { seq: bigint; at: number } | null = null;

  constructor(private readonly deps: Deps) {}

  private get subject(): string {
    return natsSubject(this.deps.prefix, 'audit.checkpointed');
  }

  /** Publishes a checkpoint newer than the last one published (or the same again after a quiet day). */
  async publish(cp: Checkpoint): Promise<void> {
    const seq = BigInt(cp.seq);
    if (this.last && seq <= this.last.seq && Date.now() - this.last.at < REPUBLISH_MS) return;
    const { js, signer } = this.deps.events;
    const envelope = { ...buildEnvelope({ type: 'audit.checkpointed', source: 'audit', actor: WITNESS_ACTOR, data: cp }), id: checkpointEventId(cp) };
    const signed = signer.sign(envelope);
    await js.publish(this.subject, JSON.stringify(signed), { msgID: signed.id, timeout: 5000 });
    this.last = { seq: seq > (this.last?.seq ?? 0n) ? seq : this.last!.seq, at: Date.now() };
  }

  /**
   * The newest checkpoint on the stream, read now — when it is the audit's (its event signature)
   * and of this log (origin, checkpoint signature); null when there is none. A forged or foreign
   * one is ignored and logged.
   */
  async latest(): Promise<Checkpoint | null> {
    const { jsm, stream, verifier } = this.deps.events;
    let raw: unknown;
    let subject: string;
    try {
      const stored = await jsm.streams.getMessage(stream, { last_by_subj: this.subject });
      raw = stored.json();
      subject = stored.subject;
    } catch (err) {
      if (isMessageNotFound(err)) return null;
      throw err;
    }
    let event: Envelope<'audit.checkpointed'>;
    try {
      event = parseEnvelope(raw) as Envelope<'audit.checkpointed'>;
    } catch {
      return this.ignore('MALFORMED');
    }
    const refused = verifier.check(event, raw as object, subject, this.deps.prefix);
    if (refused) return this.ignore(refused);
    const cp: Checkpoint = event.data;
    const key = this.deps.config.extra.checkpointKeys.verify.get(cp.keyId);
    if (cp.origin !== this.deps.config.extra.origin || !key || !checkpointSignatureValid(cp, key)) return this.ignore('CHECKPOINT_SIGNATURE');
    return cp;
  }

  private ignore(reason: string): null {
    this.deps.logger.warn({ reason }, 'the newest audit.checkpointed on the stream is not a checkpoint of this log; ignored');
    return null;
  }

  /** Publishes, logging a failure instead of throwing: the next checkpoint tries again. */
  async publishQuietly(cp: Checkpoint): Promise<void> {
    await this.publish(cp).catch((err: unknown) =>
      this.deps.logger.warn({ err: safeError(err), seq: cp.seq }, 'checkpoint not published to the stream; will try again'),
    );
  }
}
