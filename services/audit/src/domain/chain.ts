/**
 * The audit chain's cryptography and its verification, pure: no database, no network, no project
 * secret — only `node:crypto` and the public keys it is given. The audit service and the offline
 * verifier (`scripts/audit-verify.ts`) both use this module, so they agree byte for byte.
 *
 * - An entry's hash (version 2) covers every stored field of the entry, `seq`, `recordedAt` and the
 *   previous entry's hash included: SHA-256 over `pdp.audit.entry.v2\n` + RFC 8785 canonical JSON.
 * - A checkpoint is a small signed note, after C2SP `tlog-checkpoint`: origin, size (the head's `seq`),
 *   head hash, time and key id, signed with Ed25519. Whoever holds only the public key can check that
 *   entries 1…size are exactly those the audit had when it signed.
 */
import { createHash, sign, verify, type KeyObject } from 'node:crypto';

export const GENESIS_HASH = '0'.repeat(64);
/** Entries recorded before checkpoints existed (version 1) hash everything but `seq`, `recordedAt` and the new fields. */
export const ENTRY_HASH_VERSION = 2;
const ENTRY_CONTEXT = 'pdp.audit.entry.v2\n';
const CHECKPOINT_CONTEXT = 'pdp.audit.checkpoint.v1';
export const CHECKPOINT_ALGORITHM = 'Ed25519';

export type Outcome = 'ALLOWED' | 'DENIED';

/** An entry as stored, every field as text the way it is hashed (timestamps with microseconds). */
export interface ChainEntry {
  seq: string;
  hashVersion: number;
  eventId: string;
  type: string;
  operation: string;
  source: string;
  actorId: string;
  actorRoles: string[];
  creditorId: string | null;
  purpose: string | null;
  outcome: Outcome;
  subjectId: string | null;
  correlationId: string | null;
  /** A keyed hash of the client's address, for refusals at the gateway; never the address. */
  clientKey: string | null;
  resource: string | null;
  resourceIds: string[];
  fields: string[];
  /** ISO 8601 UTC with microseconds, e.g. `2026-11-25T10:00:00.123000Z`. */
  occurredAt: string;
  recordedAt: string;
  details: unknown;
  prevHash: string;
  hash: string;
}

export interface Checkpoint {
  origin: string;
  seq: string;
  hash: string;
  signedAt: string;
  keyId: string;
  /** Ed25519 over `checkpointNote(...)`, base64. */
  signature: string;
}

/** RFC 8785 canonical JSON (keys sorted by UTF-16 code units at every level; ES number and string forms). */
export function canonical(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === null || value === undefined) return 'null';
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i += 1) out += (i > 0 ? ',' : '') + canonical(value[i]);
    return `${out}]`;
  }
  if (typeof value === 'object') {
    // The default sort compares UTF-16 code units, as RFC 8785 orders keys.
    const keys = Object.keys(value).sort();
    let out = '{';
    for (const key of keys) {
      const v = (value as Record<string, unknown>)[key];
      if (v === undefined) continue;
      out += `${out.length > 1 ? ',' : ''}${JSON.stringify(key)}:${canonical(v)}`;
    }
    return `${out}}`;
  }
  return JSON.stringify(value);
}

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

/** A timestamp as hashed: ISO 8601 UTC with six fractional digits (PostgreSQL keeps microseconds). */
export function isoMicros(date: Date): string {
  return date.toISOString().replace(/Z$/, '000Z');
}

/**
 * The fields a version-2 hash covers, in RFC 8785 order (sorted by name): every field of the entry
 * but the hash. Listed rather than taken from the object, so that nothing else a caller's object
 * carries (a line's `kind`, a driver's extra column) changes the hash.
 */
const COVERED = [
  'actorId',
  'actorRoles',
  'clientKey',
  'correlationId',
  'creditorId',
  'details',
  'eventId',
  'fields',
  'hashVersion',
  'occurredAt',
  'operation',
  'outcome',
  'prevHash',
  'purpose',
  'recordedAt',
  'resource',
  'resourceIds',
  'seq',
  'source',
  'subjectId',
  'type',
] as const satisfies ReadonlyArray<Exclude<keyof ChainEntry, 'hash'>>;

/** The hash an entry must have, by its version. */
export function entryHash(e: ChainEntry): string {
  if (e.hashVersion === 1) return legacyHash(e);
  // canonical() of the covered object, built directly: the keys are fixed and already in order.
  let json = '{';
  for (const key of COVERED) json += `${json.length > 1 ? ',' : ''}"${key}":${canonical(e[key])}`;
  return sha256(`${ENTRY_CONTEXT}${json}}`);
}

/** Version 1: the previous hash and the event's fields, without seq, recordedAt and what came later. */
function legacyHash(e: ChainEntry): string {
  const covered = {
    eventId: e.eventId,
    type: e.type,
    operation: e.operation,
    source: e.source,
    actorId: e.actorId,
    actorRoles: e.actorRoles,
    subjectId: e.subjectId,
    correlationId: e.correlationId,
    occurredAt: `${e.occurredAt.slice(0, 23)}Z`,
    details: e.details,
  };
  return createHash('sha256').update(e.prevHash).update('\n').update(canonical(covered)).digest('hex');
}

/** The text a checkpoint's signature covers. */
export function checkpointNote(c: Omit<Checkpoint, 'signature'>): string {
  return [CHECKPOINT_CONTEXT, c.origin, c.seq, c.hash, c.signedAt, c.keyId, ''].join('\n');
}

export function signCheckpoint(c: Omit<Checkpoint, 'signature'>, privateKey: KeyObject): Checkpoint {
  return { ...c, signature: sign(null, Buffer.from(checkpointNote(c), 'utf8'), privateKey).toString('base64') };
}

export function checkpointSignatureValid(c: Checkpoint, key: KeyObject): boolean {
  const bytes = Buffer.from(c.signature, 'base64');
  if (bytes.length !== 64) return false;
  return verify(null, Buffer.from(checkpointNote(c), 'utf8'), key, bytes);
}

export type Tampering =
  | 'SEQ_GAP'
  | 'OUT_OF_ORDER'
  | 'LINK_BROKEN'
  | 'INSERTED'
  | 'HASH_MISMATCH'
  | 'CHECKPOINT_MISMATCH'
  | 'CHECKPOINT_SIGNATURE'
  | 'CHECKPOINT_KEY_UNKNOWN'
  | 'CHECKPOINT_ORIGIN'
  | 'TRUNCATED';

export interface Finding {
  reason: Tampering;
  /**
   * The first entry found bad: for a gap the missing one, for an edit the edited one; for a rewrite,
   * a cut or an insertion the first entry that no signed checkpoint still confirms (the one after the
   * last checkpoint that matched) — nothing after it is provably what the audit wrote.
   */
  seq: string;
  checkpointSeq: string | null;
  /** One line for people, in English: what is wrong and where. Never an entry's contents. */
  detail: string;
}

export interface VerifierOptions {
  /** Public keys that may have signed a checkpoint with this key id (offline: every key given). */
  keysFor: (keyId: string) => readonly KeyObject[];
  /** The origin every checkpoint must name; null takes the first checkpoint's. */
  origin: string | null;
  /** Start after this signed checkpoint instead of the genesis (incremental verification, partial exports). */
  anchor?: { seq: string; hash: string } | null;
}

/**
 * Checks a chain fed entry by entry in `seq` order against the checkpoints covering it (given upfront,
 * in any order). The first problem wins; feeding stops mattering after it. Detects an edited entry
 * (its hash), a removed one (a gap in `seq`), reordered ones (order and links), a cut-off tail
 * (a checkpoint beyond the last entry, or inside a gap the audit's later entries jumped), a rewrite
 * that recomputed every later hash (the signed checkpoint no longer matches), and entries slipped in
 * after a signed head (the audit's next entry links past them, to the head it signed: the audit
 * never builds on a head it did not write).
 */
export class ChainVerifier {
  private expected: bigint;
  private prevHash: string;
  private readonly checkpoints: Checkpoint[];
  private next = 0;
  private lastGood: bigint;
  /** The hash of entry `lastGood` (the anchor's, or the genesis'), for telling an insertion from a broken link. */
  private lastGoodHash: string;
  private origin: string | null;
  finding: Finding | null = null;
  entriesChecked = 0;
  checkpointsChecked = 0;
  lastSeq: string | null = null;
  /** The newest checkpoint that matched its entry: where the next incremental run may start. */
  verifiedCheckpoint: Checkpoint | null = null;

  constructor(
    checkpoints: readonly Checkpoint[],
    private readonly opts: VerifierOptions,
  ) {
    const start = opts.anchor ? BigInt(opts.anchor.seq) : 0n;
    this.checkpoints = [...checkpoints].filter((c) => BigInt(c.seq) > start).sort((a, b) => cmp(BigInt(a.seq), BigInt(b.seq)));
    this.expected = start + 1n;
    this.lastGood = start;
    this.prevHash = opts.anchor?.hash ?? GENESIS_HASH;
    this.lastGoodHash = this.prevHash;
    this.origin = opts.origin;
  }

  get valid(): boolean {
    return this.finding === null;
  }

  /** Feeds the next entry; returns false once the chain is found broken. */
  add(e: ChainEntry): boolean {
    if (this.finding) return false;
    const seq = BigInt(e.seq);
    if (seq !== this.expected)
      return seq > this.expected
        ? this.gap(seq)
        : this.fail('OUT_OF_ORDER', seq, `entry ${seq} comes after entry ${this.expected - 1n}: reordered or repeated`);
    if (e.prevHash !== this.prevHash) return this.brokenLink(seq, e.prevHash);
    if (entryHash(e) !== e.hash) return this.fail('HASH_MISMATCH', seq, `entry ${seq} does not match its hash: edited`);
    this.entriesChecked += 1;
    this.lastSeq = e.seq;
    this.prevHash = e.hash;
    this.expected = seq + 1n;
    // Several checkpoints may name one entry (a forced one and a periodic one); each must match.
    for (let cp = this.checkpoints[this.next]; cp && BigInt(cp.seq) === seq; cp = this.checkpoints[this.next]) {
      this.next += 1;
      if (!this.checkpointTrusted(cp)) return false;
      if (cp.hash !== e.hash) {
        return this.fail(
          'CHECKPOINT_MISMATCH',
          this.lastGood + 1n,
          `entries ${this.lastGood + 1n}…${seq} do not lead to the hash signed in checkpoint ${seq}: rewritten`,
          cp.seq,
        );
      }
      this.checkpointsChecked += 1;
      this.lastGood = seq;
      this.lastGoodHash = e.hash;
      this.verifiedCheckpoint = cp;
    }
    return true;
  }

  /** After the last entry: a checkpoint beyond it means entries were cut off the end. */
  finish(): Finding | null {
    if (this.finding) return this.finding;
    const beyond = this.checkpoints[this.next];
    if (beyond && this.checkpointTrusted(beyond)) {
      this.fail(
        'TRUNCATED',
        this.lastGood + 1n,
        `checkpoint ${beyond.seq} covers entries up to ${beyond.seq}, but the log ends at ${this.expected - 1n}: cut off${this.unconfirmed()}`,
        beyond.seq,
      );
    }
    return this.finding;
  }

  /** Entries missing before `seq`: cut back if a signed checkpoint lies in the gap (and the audit went on), else removed. */
  private gap(seq: bigint): false {
    const swallowed = this.checkpoints[this.next];
    if (swallowed && BigInt(swallowed.seq) < seq) {
      if (!this.checkpointTrusted(swallowed)) return false;
      return this.fail(
        'TRUNCATED',
        this.lastGood + 1n,
        `entries ${this.expected}…${seq - 1n} are missing, though checkpoint ${swallowed.seq} covered them: cut back${this.unconfirmed()}`,
        swallowed.seq,
      );
    }
    return this.fail('SEQ_GAP', this.expected, `entry ${this.expected} is missing: the log goes from ${this.expected - 1n} to ${seq}`);
  }

  /**
   * Entry `seq` does not link to the one before it. When it links instead to the last entry a signed
   * checkpoint confirmed, the entries between were slipped in after that head; when it links to a
   * hash another checkpoint signed, the entries since the last confirmed one were rewritten.
   */
  private brokenLink(seq: bigint, prevHash: string): false {
    if (prevHash === this.lastGoodHash && seq > this.lastGood + 1n) {
      return this.fail(
        'INSERTED',
        this.lastGood + 1n,
        `entries ${this.lastGood + 1n}…${seq - 1n} are not in the chain the audit signed: entry ${seq} continues it from entry ${this.lastGood}`,
      );
    }
    const signed = this.checkpoints.find((c) => c.hash === prevHash && BigInt(c.seq) > this.lastGood);
    if (signed && this.checkpointTrusted(signed)) {
      return this.fail(
        'CHECKPOINT_MISMATCH',
        this.lastGood + 1n,
        `entries ${this.lastGood + 1n}…${seq - 1n} are not those the audit signed: entry ${seq} continues from the head signed in checkpoint ${signed.seq}`,
        signed.seq,
      );
    }
    return this.fail('LINK_BROKEN', seq, `entry ${seq} does not link to entry ${seq - 1n}: an entry before it was removed, replaced or reordered`);
  }

  private unconfirmed(): string {
    return this.lastGood + 1n < this.expected ? `; entries from ${this.lastGood + 1n} on are not confirmed by a checkpoint that still matches` : '';
  }

  /** A checkpoint counts only when its origin is right and one of the keys for its id signed it. */
  private checkpointTrusted(cp: Checkpoint): boolean {
    if (this.origin === null) this.origin = cp.origin;
    if (cp.origin !== this.origin)
      return this.fail('CHECKPOINT_ORIGIN', BigInt(cp.seq), `checkpoint ${cp.seq} is of another log (${cp.origin.slice(0, 80)})`, cp.seq);
    const keys = this.opts.keysFor(cp.keyId);
    if (keys.length === 0)
      return this.fail(
        'CHECKPOINT_KEY_UNKNOWN',
        BigInt(cp.seq),
        `checkpoint ${cp.seq} is signed with key ${cp.keyId.slice(0, 64)}, which was not given`,
        cp.seq,
      );
    if (!keys.some((k) => checkpointSignatureValid(cp, k))) {
      return this.fail('CHECKPOINT_SIGNATURE', BigInt(cp.seq), `checkpoint ${cp.seq}: the signature does not verify`, cp.seq);
    }
    return true;
  }

  private fail(reason: Tampering, seq: bigint, detail: string, checkpointSeq: string | null = null): false {
    this.finding ??= { reason, seq: seq.toString(), checkpointSeq, detail };
    return false;
  }
}

function cmp(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
