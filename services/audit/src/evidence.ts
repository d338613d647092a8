import { PolicyError, type Locale } from '@pdp/shared';
import type { Transaction } from 'kysely';
import type { Deps } from './config';
import { appendEntries, chainHead, entriesBetween, entryAt, lockChain } from './db/entries.repository';
import { checkpointAt, checkpointsBetween, insertCheckpoint, insertVerification, latestCheckpoint, recentVerifications } from './db/checkpoints.repository';
import type { Database, VerificationRow } from './db/tables';
import { ChainVerifier, entryHash, isoMicros, signCheckpoint, type Checkpoint, type ChainEntry, type Finding } from './domain/chain';
import type { NewEntry } from './domain/entry';
import { sameHead, signHead } from './domain/head';
import { signVerification, verificationSignatureValid, type VerificationNote, type VerificationResult } from './domain/verification';
import { OwnHead } from './head';
import { raiseIncident } from './incidents.service';
import { Witness } from './witness';

const PAGE = 5000;

interface Known {
  seq: string;
  hash: string;
}

/** What a checkpoint request came to: the checkpoint of the audit's own head, and whether the database's head was refused. */
export interface CheckpointResult {
  checkpoint: Checkpoint | null;
  refused: Finding | null;
}

/**
 * The audit's evidence keeping for one running service: appends that sign their head, signed
 * checkpoints of the head the recorder wrote (never of one it did not: `OwnHead`), published outside
 * the database too (`Witness`), and verification of the chain against them. Remembers the newest
 * checkpoint it signed or verified, so a tail cut off together with its checkpoints is still caught
 * while it runs (and, after a restart, by the witness and the signed verification records).
 */
export class Evidence {
  private known: Known | null = null;
  readonly witness: Witness;
  readonly head: OwnHead;
  private ticking: Promise<void> | null = null;
  /** The seq of the last checkpoint of its own head this process stored. */
  private stored: string | null = null;

  constructor(private readonly deps: Deps) {
    this.witness = new Witness(deps);
    this.head = new OwnHead(deps, this.witness);
  }

  /**
   * Appends entries (the recorder, in its transaction) after the head the recorder wrote last, and
   * signs the new head. A database head that is not the audit's is an incident; the entries then go
   * on from the audit's own head, so nothing it signs later vouches for what it did not write.
   */
  async append(trx: Transaction<Database>, entries: NewEntry[]): Promise<ChainEntry[]> {
    await lockChain(trx);
    const check = await this.head.check(trx);
    const { keyId, privateKey } = this.keys.signing;
    let head: Checkpoint | null = null;
    const placed = await appendEntries(trx, entries, check.link, (h) => {
      head = signHead(this.deps.config.extra.origin, keyId, privateKey, h);
      return { keyId, signature: head.signature };
    });
    if (head) this.head.wrote(head);
    if (check.finding) await this.tampered(trx, check.finding, check.own);
    await this.checkpointEvery(trx, placed);
    return placed;
  }

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

  private async sign(trx: Transaction<Database>, entry: Pick<ChainEntry, 'seq' | 'hash'>): Promise<Checkpoint> {
    const { keyId, privateKey } = this.keys.signing;
    const cp = signCheckpoint({ origin: this.deps.config.extra.origin, seq: entry.seq, hash: entry.hash, signedAt: isoMicros(new Date()), keyId }, privateKey);
    await insertCheckpoint(trx, cp);
    this.remember(cp);
    return cp;
  }

  /**
   * A checkpoint of the head the recorder wrote, now (the periodic job; the export asks for one):
   * stored when it is newer than the newest stored one — its signature is the one the append made,
   * so nothing is signed when nothing changed — and published on the stream. When the database's
   * head is not the audit's, `refused` says where, and the checkpoint is of the audit's own head.
   */
  async checkpointNow(): Promise<CheckpointResult> {
    const result = await this.deps.db.transaction().execute(async (trx): Promise<CheckpointResult> => {
      await lockChain(trx);
      const check = await this.head.check(trx);
      if (check.finding) await this.tampered(trx, check.finding, check.own);
      else if (check.own) await this.store(trx, check.own);
      return { checkpoint: check.own, refused: check.finding };
    });
    if (result.checkpoint) await this.witness.publishQuietly(result.checkpoint);
    return result;
  }

  /** `checkpointAudit`: the checkpoint, or a refusal when the database's head is not the audit's. */
  async checkpointForExport(locale: Locale): Promise<Checkpoint | null> {
    const { checkpoint, refused } = await this.checkpointNow();
    if (refused)
      throw new PolicyError('CONFLICT', 'audit.headNotOwn', locale, { reason: 'AUDIT_TAMPERED', firstInvalidSeq: refused.seq, finding: refused.reason });
    return checkpoint;
  }

  /** The periodic checkpoint; one at a time, however slow the database is. */
  async tick(): Promise<void> {
    this.ticking ??= this.checkpointNow()
      .then(() => undefined)
      .finally(() => (this.ticking = null));
    await this.ticking;
  }

  /**
   * Stores a checkpoint of the audit's own head, once per head (by this process: what the database
   * says it holds decides nothing here — a row planted far ahead must not stop the storing).
   */
  private async store(trx: Transaction<Database>, own: Checkpoint): Promise<void> {
    if (this.stored === own.seq) return;
    await insertCheckpoint(trx, own);
    this.stored = own.seq;
    this.remember(own);
  }

  /**
   * The database's head is not the one the audit wrote: an `AUDIT_TAMPERED` incident naming the first
   * entry that is not the audit's, and the audit's own head stored as a checkpoint (it signed it), so
   * that the export and every verification hold the head the database was made to contradict.
   */
  private async tampered(trx: Transaction<Database>, finding: Finding, own: Checkpoint | null): Promise<void> {
    if (own && !(await checkpointAt(trx, own.seq))) await insertCheckpoint(trx, own);
    if (own) this.remember(own);
    await raiseIncident(this.deps, trx, tamperedHit(finding));
  }

  /**
   * Verifies the chain: every entry's hash and link and the gap-free `seq`, against every signed
   * checkpoint, and that nothing known to have existed is gone. Incremental by default: it resumes
   * after the checkpoint the last valid, signed verification record names (and re-checks that
   * checkpoint and its entry); `full` starts from the first entry. A broken chain raises an incident.
   */
  async verify(full: boolean, known: Finding | null = null): Promise<VerificationResult> {
    const { db } = this.deps;
    // The head the recorder wrote becomes a checkpoint first (or the database's head is found not to
    // be the audit's): everything up to now is then checked against a signature.
    if (!known) await this.checkpointNow();
    const verifiedAt = new Date().toISOString();
    // What must still be there is read before the head, so entries appended meanwhile are no gap.
    const records = await this.trustedRecords();
    const memory = this.known;
    const head = await chainHead(db);
    const headSeq = head?.seq ?? '0';
    const resume = full ? null : (records.find((r) => r.valid && r.through_seq !== null) ?? null);
    const anchor = resume ? { seq: resume.through_seq!, hash: resume.through_hash! } : null;
    // Beside the database's checkpoints, the newest one published outside it: removing checkpoints
    // from the database hides nothing it covers (it may lie beyond the database's end: a cut).
    const witnessed = await this.witness.latest().catch(() => null);
    const stored = await checkpointsBetween(db, anchor?.seq ?? '0', headSeq);
    const outside = witnessed && BigInt(witnessed.seq) > BigInt(anchor?.seq ?? '0') && !stored.some((c) => sameHead(c, witnessed)) ? [witnessed] : [];

    const verifier = new ChainVerifier([...stored, ...outside], {
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
      return {
        reason: 'TRUNCATED',
        seq: anchor.seq,
        checkpointSeq: anchor.seq,
        detail: `entry ${anchor.seq}, verified before, is gone: the log ends at ${headSeq}`,
      };
    }
    if (!cp || cp.hash !== anchor.hash) {
      return {
        reason: 'CHECKPOINT_MISMATCH',
        seq: anchor.seq,
        checkpointSeq: anchor.seq,
        detail: `checkpoint ${anchor.seq}, verified before, was removed or replaced`,
      };
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
        return {
          reason: 'TRUNCATED',
          seq: String(BigInt(headSeq) + 1n),
          checkpointSeq: k.seq,
          detail: `checkpoint ${k.seq} was signed, but the log ends at ${headSeq}: cut off`,
        };
      }
      const cp = await checkpointAt(this.deps.db, k.seq);
      if (!cp || cp.hash !== k.hash) {
        return {
          reason: 'CHECKPOINT_MISMATCH',
          seq: k.seq,
          checkpointSeq: k.seq,
          detail: `checkpoint ${k.seq}, signed or verified before, was removed or replaced`,
        };
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
    await this.deps.db.transaction().execute((trx) => raiseIncident(this.deps, trx, tamperedHit(finding)));
  }

  private remember(k: Known): void {
    if (!this.known || BigInt(k.seq) > BigInt(this.known.seq)) this.known = { seq: k.seq, hash: k.hash };
  }
}

/**
 * An `AUDIT_TAMPERED` incident about the first bad entry; the recorder and a verification run that
 * find the same entry raise one incident between them.
 */
function tamperedHit(finding: Finding) {
  return {
    rule: 'AUDIT_TAMPERED',
    key: `chain:${finding.seq}`,
    actorId: 'system:audit-verification',
    subjectId: null,
    evidence: [finding.seq],
    details: { reason: finding.reason, firstInvalidSeq: finding.seq, checkpointSeq: finding.checkpointSeq },
    windowMinutes: 24 * 60,
  };
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
