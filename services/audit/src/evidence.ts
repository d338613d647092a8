import type { Transaction } from 'kysely';
import type { Deps } from './config';
import { chainHead, entriesBetween, entryAt, lockChain } from './db/entries.repository';
import { checkpointAt, checkpointsBetween, insertCheckpoint, insertVerification, latestCheckpoint, recentVerifications } from './db/checkpoints.repository';
import type { Database, VerificationRow } from './db/tables';
import { ChainVerifier, entryHash, isoMicros, signCheckpoint, type Checkpoint, type ChainEntry, type Finding } from './domain/chain';
import { signVerification, verificationSignatureValid, type VerificationNote, type VerificationResult } from './domain/verification';
import { raiseIncident } from './incidents';

const PAGE = 5000;

interface Known {
  seq: string;
  hash: string;
}

/**
 * The audit's evidence keeping for one running service: signed checkpoints of the head, and
 * verification of the chain against them. Remembers the newest checkpoint it signed or verified, so a
 * tail cut off together with its checkpoints is still caught while it runs (and, after a restart, by
 * the signed verification records).
 */
export class Evidence {
  private known: Known | null = null;

  constructor(private readonly deps: Deps) {}

  private get keys() {
    return this.deps.config.extra.checkpointKeys;
  }

  /**
   * Signs a checkpoint at every entry that is `every` entries past the previous checkpoint, inside
   * the caller's transaction, which holds the chain lock (the recorder, after appending).
   */
  async checkpointEvery(trx: Transaction<Database>, appended: ReadonlyArray<Pick<ChainEntry, 'seq' | 'hash'>>): Promise<void> {
    const every = BigInt(this.deps.config.extra.checkpointEvery);
    let last = BigInt((await latestCheckpoint(trx))?.seq ?? '0');
    for (const entry of appended) {
      if (BigInt(entry.seq) - last < every) continue;
      await this.sign(trx, entry);
      last = BigInt(entry.seq);
    }
  }

  /** A checkpoint of the head when it moved past the last one; the existing one when not; null for an empty log. */
  private async checkpointHead(trx: Transaction<Database>, head: Pick<ChainEntry, 'seq' | 'hash'>): Promise<Checkpoint | null> {
    const last = await latestCheckpoint(trx);
    return last && BigInt(last.seq) >= BigInt(head.seq) ? last : this.sign(trx, head);
  }

  private async sign(trx: Transaction<Database>, entry: Pick<ChainEntry, 'seq' | 'hash'>): Promise<Checkpoint> {
    const { keyId, privateKey } = this.keys.signing;
    const cp = signCheckpoint({ origin: this.deps.config.extra.origin, seq: entry.seq, hash: entry.hash, signedAt: isoMicros(new Date()), keyId }, privateKey);
    await insertCheckpoint(trx, cp);
    this.remember(cp);
    return cp;
  }

  /** A checkpoint of the current head now (the periodic job; the export asks for one). */
  async checkpointNow(): Promise<Checkpoint | null> {
    return this.deps.db.transaction().execute(async (trx) => {
      await lockChain(trx);
      const head = await chainHead(trx);
      return head ? this.checkpointHead(trx, head) : null;
    });
  }

  /**
   * Verifies the chain: every entry's hash and link and the gap-free `seq`, against every signed
   * checkpoint, and that nothing known to have existed is gone. Incremental by default: it resumes
   * after the checkpoint the last valid, signed verification record names (and re-checks that
   * checkpoint and its entry); `full` starts from the first entry. A broken chain raises an incident.
   */
  async verify(full: boolean, known: Finding | null = null): Promise<VerificationResult> {
    const { db } = this.deps;
    const verifiedAt = new Date().toISOString();
    // What must still be there is read before the head, so entries appended meanwhile are no gap.
    const records = await this.trustedRecords();
    const memory = this.known;
    const head = await chainHead(db);
    const headSeq = head?.seq ?? '0';
    const resume = full ? null : records.find((r) => r.valid && r.through_seq !== null) ?? null;
    const anchor = resume ? { seq: resume.through_seq!, hash: resume.through_hash! } : null;

    const verifier = new ChainVerifier(await checkpointsBetween(db, anchor?.seq ?? '0', headSeq), {
      keysFor: (keyId) => {
        const key = this.keys.verify.get(keyId);
        return key ? [key] : [];
      },
      origin: this.deps.config.extra.origin,
      anchor,
    });
    // A resume point that no longer holds: start over from the first entry, to name the first bad one.
    const anchorProblem = anchor ? await this.anchorProblem(anchor, headSeq) : null;
    if (anchorProblem) return this.verify(true, anchorProblem);
    for (let after = anchor?.seq ?? '0'; ; ) {
      const page = await entriesBetween(db, after, headSeq, PAGE);
      if (!page.every((e) => verifier.add(e)) || page.length < PAGE) break;
      after = page[page.length - 1]!.seq;
    }
    verifier.finish();
    const missing = await this.missingKnown([memory, ...records.map(recordKnown)], headSeq);
    const finding = earliest(verifier.finding, missing, known);
    const through = verifier.verifiedCheckpoint ?? (anchor ? { seq: anchor.seq, hash: anchor.hash } : null);
    if (!finding && through) this.remember(through);
    const result: VerificationResult = {
      valid: finding === null,
      full,
      entriesChecked: verifier.entriesChecked,
      checkpointsChecked: verifier.checkpointsChecked,
      headSeq: head?.seq ?? null,
      resumedFromSeq: anchor?.seq ?? null,
      verifiedThroughSeq: through?.seq ?? null,
      firstInvalidSeq: finding?.seq ?? null,
      reason: finding?.reason ?? null,
      detail: finding?.detail ?? null,
      verifiedAt,
    };
    await this.record(result, finding ? null : through);
    if (finding) await this.raiseTampered(finding);
    return result;
  }

  /** The resume checkpoint must still exist unchanged, and so must its entry. */
  private async anchorProblem(anchor: Known, headSeq: string): Promise<Finding | null> {
    const { db } = this.deps;
    const [cp, entry] = await Promise.all([checkpointAt(db, anchor.seq), entryAt(db, anchor.seq)]);
    if (!entry || BigInt(anchor.seq) > BigInt(headSeq)) {
      return { reason: 'TRUNCATED', seq: anchor.seq, checkpointSeq: anchor.seq, detail: `entry ${anchor.seq}, verified before, is gone: the log ends at ${headSeq}` };
    }
    if (!cp || cp.hash !== anchor.hash) {
      return { reason: 'CHECKPOINT_MISMATCH', seq: anchor.seq, checkpointSeq: anchor.seq, detail: `checkpoint ${anchor.seq}, verified before, was removed or replaced` };
    }
    if (entry.hash !== anchor.hash || entryHash(entry) !== entry.hash) {
      return { reason: 'HASH_MISMATCH', seq: anchor.seq, checkpointSeq: anchor.seq, detail: `entry ${anchor.seq}, verified before, no longer matches: edited` };
    }
    return null;
  }

  /** A checkpoint signed or verified earlier that is now missing, or beyond the head: a cut-off tail. */
  private async missingKnown(known: Array<Known | null>, headSeq: string): Promise<Finding | null> {
    for (const k of known) {
      if (!k) continue;
      if (BigInt(k.seq) > BigInt(headSeq)) {
        return { reason: 'TRUNCATED', seq: String(BigInt(headSeq) + 1n), checkpointSeq: k.seq, detail: `checkpoint ${k.seq} was signed, but the log ends at ${headSeq}: cut off` };
      }
      const cp = await checkpointAt(this.deps.db, k.seq);
      if (!cp || cp.hash !== k.hash) {
        return { reason: 'CHECKPOINT_MISMATCH', seq: k.seq, checkpointSeq: k.seq, detail: `checkpoint ${k.seq}, signed or verified before, was removed or replaced` };
      }
    }
    return null;
  }

  /** Recent verification records whose signatures verify, newest first; forged ones are ignored. */
  private async trustedRecords(): Promise<VerificationRow[]> {
    const rows = await recentVerifications(this.deps.db, 20);
    return rows.filter((r) => verificationSignatureValid(noteOf(r, this.deps.config.extra.origin), r.signature, this.keys.verify.get(r.key_id)));
  }

  private async record(result: VerificationResult, through: Known | null): Promise<void> {
    const { keyId, privateKey } = this.keys.signing;
    const note: VerificationNote = {
      origin: this.deps.config.extra.origin,
      verifiedAt: result.verifiedAt,
      full: result.full,
      valid: result.valid,
      headSeq: result.headSeq ?? '0',
      throughSeq: through?.seq ?? null,
      throughHash: through?.hash ?? null,
      keyId,
    };
    await insertVerification(this.deps.db, {
      verified_at: new Date(result.verifiedAt),
      full_run: result.full,
      valid: result.valid,
      entries_checked: String(result.entriesChecked),
      head_seq: note.headSeq,
      through_seq: note.throughSeq,
      through_hash: note.throughHash,
      first_invalid_seq: result.firstInvalidSeq,
      reason: result.reason,
      key_id: keyId,
      signature: signVerification(note, privateKey),
    });
  }

  private async raiseTampered(finding: Finding): Promise<void> {
    await this.deps.db.transaction().execute((trx) =>
      raiseIncident(this.deps, trx, {
        rule: 'AUDIT_TAMPERED',
        key: `chain:${finding.reason}:${finding.seq}`,
        actorId: 'system:audit-verification',
        subjectId: null,
        evidence: [finding.seq],
        details: { reason: finding.reason, firstInvalidSeq: finding.seq, checkpointSeq: finding.checkpointSeq },
        windowMinutes: 24 * 60,
      }),
    );
  }

  private remember(k: Known): void {
    if (!this.known || BigInt(k.seq) > BigInt(this.known.seq)) this.known = { seq: k.seq, hash: k.hash };
  }
}

/** The finding about the earliest entry: the first bad one is what verification names. */
function earliest(...findings: Array<Finding | null>): Finding | null {
  return findings.reduce<Finding | null>((first, f) => (!f ? first : !first || BigInt(f.seq) < BigInt(first.seq) ? f : first), null);
}

function recordKnown(r: VerificationRow): Known | null {
  return r.valid && r.through_seq && r.through_hash ? { seq: r.through_seq, hash: r.through_hash } : null;
}

function noteOf(r: VerificationRow, origin: string): VerificationNote {
  return {
    origin,
    verifiedAt: r.verified_at.toISOString(),
    full: r.full_run,
    valid: r.valid,
    headSeq: r.head_seq,
    throughSeq: r.through_seq,
    throughHash: r.through_hash,
    keyId: r.key_id,
  };
}

const instances = new WeakMap<object, Evidence>();

/** The one Evidence of a running service (its resolvers, consumer and jobs share the memory). */
export function evidenceOf(deps: Deps): Evidence {
  let found = instances.get(deps.db);
  if (!found) {
    found = new Evidence(deps);
    instances.set(deps.db, found);
  }
  return found;
}
