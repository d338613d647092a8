import type { Transaction } from 'kysely';
import type { Deps } from './config';
import { checkpointsBetween, recentCheckpointsBelow } from './db/checkpoints.repository';
import { chainHead, entriesBetween, entryAt, headAt, signedHeadsUpTo, type Head, type Link } from './db/entries.repository';
import type { Database } from './db/tables';
import { ChainVerifier, checkpointSignatureValid, signCheckpoint, isoMicros, type Checkpoint, type Finding } from './domain/chain';
import { sameHead, signedByRecorder } from './domain/head';
import type { Witness } from './witness';

/** Entries read at once when a stretch of the chain is walked. */
const PAGE = 5000;
/** A stretch longer than this is not walked here (the scheduled full verification does that). */
const WALK_LIMIT = 200_000n;

/** A log that holds entries but no head the audit signed, nor a checkpoint they follow. */
const NONE_SIGNED: Finding = {
  reason: 'INSERTED',
  seq: '1',
  checkpointSeq: null,
  detail: 'the log holds entries, none of them signed by the audit as its head',
};

/** Where a walk of the chain starts: an entry taken as it is. */
type Anchor = { seq: string; hash: string };

/** What the recorder learns under the chain lock before it appends or signs. */
export interface HeadCheck {
  /** Where new entries go: after the head it wrote (null: the log is empty). */
  link: Link | null;
  /** The newest head the audit wrote (null for an empty log): the only head it signs. */
  own: Checkpoint | null;
  /** Set when the database's head is not that one: entries the audit did not write, or its own gone. */
  finding: Finding | null;
}

/**
 * The recorder's memory of the head it wrote. Whoever holds the database login can recompute hashes,
 * but cannot sign: every append signs its new head (domain/head.ts), and this process also remembers
 * it. Before each append and each checkpoint, under the chain lock, the database's head must be that
 * one, or a later one the recorder signed (another instance's) that continues it. Otherwise the
 * entries there are not the audit's: the finding becomes an `AUDIT_TAMPERED` incident, the audit signs
 * nothing there, and its next entries continue from its own head — never from one it did not write,
 * which its later signatures would otherwise vouch for.
 *
 * A fresh process (a restart, another instance) knows no head yet: it takes the newest checkpoint the
 * audit published outside the database (the witness on the stream) as the floor — the database must
 * still hold it and continue it — and the database's head as its own if the recorder signed it.
 */
export class OwnHead {
  private known: Checkpoint | null = null;
  /** The head of the append in progress, or of the last one: committed or not, the next look at the database tells. */
  private pending: Checkpoint | null = null;

  constructor(
    private readonly deps: Deps,
    private readonly witness: Witness,
  ) {}

  /** The newest head this process knows the audit wrote. */
  get current(): Checkpoint | null {
    return this.known;
  }

  /** An append (under the lock) made this its head. */
  wrote(head: Checkpoint): void {
    this.pending = head;
  }

  private get origin(): string {
    return this.deps.config.extra.origin;
  }

  private readonly keyFor = (keyId: string) => this.deps.config.extra.checkpointKeys.verify.get(keyId);

  /** Under the chain lock: whether the database's head is the audit's own, and where to go on from. */
  async check(trx: Transaction<Database>): Promise<HeadCheck> {
    const db = await chainHead(trx);
    if (this.pending && (await this.holds(trx, db, this.pending))) this.known = this.pending;
    this.pending = null;
    const floor = this.known ?? (await this.witness.latest());
    if (!db && !floor) return { link: null, own: null, finding: null };
    const own = await this.ownHead(trx, db, floor);
    if (own) {
      this.known = own;
      return { link: linkAfter(db, own), own, finding: null };
    }
    return this.refuse(trx, db, floor);
  }

  /** The database's head is not the audit's: where the database left the audit's chain, and its own head to go on from. */
  private async refuse(trx: Transaction<Database>, db: Head | null, floor: Checkpoint | null): Promise<HeadCheck> {
    const own = this.known ?? (await this.newestOwn(trx, db, floor));
    this.known = own;
    if (!own) return { link: linkAfter(db, null), own: null, finding: NONE_SIGNED };
    // After the database's head if it is further on, so no seq the audit signed is used twice; linked to its own.
    const link = { seq: maxSeq(db?.seq, own.seq), prevHash: own.hash, recordedAt: db?.recordedAt ?? null };
    return { link, own, finding: await this.divergence(trx, own, db) };
  }

  /**
   * Whether the append that wrote `head` committed (the lock was released since): its row is there,
   * with that hash, or with that head signature, which nobody else can have made — so an append
   * whose rows were rewritten since still counts as the audit's, and its head as the one to keep.
   */
  private async holds(trx: Transaction<Database>, db: Head | null, head: Checkpoint): Promise<boolean> {
    if (sameHead(db, head)) return true;
    const row = await headAt(trx, head.seq);
    return row !== null && (row.hash === head.hash || row.headSignature === head.signature);
  }

  /**
   * The database's head as a checkpoint when it is the audit's: the one this process knows, or one
   * the recorder signed that continues from what must not be lost (`floor`); after an upgrade, a head
   * of the earlier version (no head signatures anywhere yet) that follows its last checkpoint.
   */
  private async ownHead(trx: Transaction<Database>, db: Head | null, floor: Checkpoint | null): Promise<Checkpoint | null> {
    if (!db) return null;
    if (this.known && sameHead(db, this.known)) return this.known;
    if (floor && BigInt(db.seq) < BigInt(floor.seq)) return null;
    const signed = signedByRecorder(this.origin, db, this.keyFor);
    if (signed) return (await this.continues(trx, floor, db)) ? signed : null;
    if (this.known || (await signedHeadsUpTo(trx, db.seq, 1)).length > 0) return null;
    const anchor = floor ?? (await this.newestCheckpoint(trx, db.seq));
    return (await this.continues(trx, anchor, db)) ? this.sign(db) : null;
  }

  /** Whether the chain in the database goes from `from` (a head the audit wrote) to `to` unbroken. */
  private async continues(trx: Transaction<Database>, from: Checkpoint | null, to: Head): Promise<boolean> {
    if (!from) return true;
    if (sameHead(from, to)) return true;
    const at = await entryAt(trx, from.seq);
    if (!at || at.hash !== from.hash) return false;
    if (BigInt(to.seq) - BigInt(from.seq) > WALK_LIMIT) return true;
    return (await this.walk(trx, from, [], to.seq)).valid;
  }

  /** Without memory: the newest head the recorder signed that continues `floor` (or `floor` itself). */
  private async newestOwn(trx: Transaction<Database>, db: Head | null, floor: Checkpoint | null): Promise<Checkpoint | null> {
    if (!db) return floor;
    for (const head of await signedHeadsUpTo(trx, db.seq, 20)) {
      if (floor && BigInt(head.seq) < BigInt(floor.seq)) break;
      const signed = signedByRecorder(this.origin, head, this.keyFor);
      if (signed && (await this.continues(trx, floor, head))) return signed;
    }
    return floor;
  }

  /**
   * Where the database leaves the chain the audit wrote up to `own`: verified from the newest signed
   * checkpoint before it that still matches, with `own` as a checkpoint. Names the first entry that
   * is not the audit's, as `verifyAuditChain` and `audit:verify` would.
   */
  private async divergence(trx: Transaction<Database>, own: Checkpoint, db: Head | null): Promise<Finding> {
    const end = db ? db.seq : '0';
    let anchor: Anchor | null = await this.newestCheckpoint(trx, String(BigInt(own.seq) - 1n), true);
    // Far back (or none at all): start a bounded stretch before the head instead; the full verification names it exactly.
    const start = BigInt(own.seq) - WALK_LIMIT;
    if (start > 0n && (!anchor || BigInt(anchor.seq) < start)) {
      const at = await entryAt(trx, String(start));
      anchor = at ? { seq: at.seq, hash: at.hash } : anchor;
    }
    const found = (await this.walk(trx, anchor, [own, ...(await checkpointsBetween(trx, anchor?.seq ?? '0', own.seq))], end)).finding;
    if (found) return found;
    const next = BigInt(own.seq) + 1n;
    return {
      reason: 'INSERTED',
      seq: String(next),
      checkpointSeq: own.seq,
      detail: `entries ${next}…${end} were not written by the audit: the head it wrote is entry ${own.seq}`,
    };
  }

  private async walk(trx: Transaction<Database>, from: Anchor | null, checkpoints: Checkpoint[], through: string): Promise<ChainVerifier> {
    const verifier = new ChainVerifier(checkpoints, {
      keysFor: (keyId) => {
        const key = this.keyFor(keyId);
        return key ? [key] : [];
      },
      origin: this.origin,
      anchor: from ? { seq: from.seq, hash: from.hash } : null,
    });
    for (let after = from?.seq ?? '0'; BigInt(after) < BigInt(through); ) {
      const page = await entriesBetween(trx, after, through, PAGE);
      if (!page.every((e) => verifier.add(e)) || page.length < PAGE) break;
      after = page.at(-1)!.seq;
    }
    verifier.finish();
    return verifier;
  }

  /** The newest signed checkpoint at or below `seq` (that still matches its entry, if asked). */
  private async newestCheckpoint(trx: Transaction<Database>, seq: string, matching = false): Promise<Checkpoint | null> {
    for (const cp of await recentCheckpointsBelow(trx, seq, 20)) {
      const key = this.keyFor(cp.keyId);
      if (cp.origin !== this.origin || !key || !checkpointSignatureValid(cp, key)) continue;
      if (!matching || (await entryAt(trx, cp.seq))?.hash === cp.hash) return cp;
    }
    return null;
  }

  /** Signs a head of the earlier version once, after checking it follows that version's last checkpoint. */
  private sign(head: Head): Checkpoint {
    const { keyId, privateKey } = this.deps.config.extra.checkpointKeys.signing;
    return signCheckpoint({ origin: this.origin, seq: head.seq, hash: head.hash, signedAt: isoMicros(new Date()), keyId }, privateKey);
  }
}

function linkAfter(db: Head | null, own: Checkpoint | null): Link | null {
  if (!db) return own ? { seq: own.seq, prevHash: own.hash, recordedAt: null } : null;
  return { seq: db.seq, prevHash: db.hash, recordedAt: db.recordedAt };
}

function maxSeq(a: string | undefined, b: string): string {
  return a !== undefined && BigInt(a) > BigInt(b) ? a : b;
}
