import { createHash, type KeyObject } from 'node:crypto';
import { checkpointSignatureValid, signCheckpoint, type ChainEntry, type Checkpoint } from './chain';

/**
 * The recorder's own heads, pure. Every append signs its new head — the last entry's seq and hash —
 * as a checkpoint note (chain.ts), with `signedAt` the entry's `recordedAt`, and stores the signature
 * on that entry. So the head the database holds is one the audit wrote exactly when its signature
 * verifies; the audit links new entries only to such a head, and signs checkpoints only of heads it
 * wrote. The signature is stored beside the hash it signs, never covered by it.
 */
export interface StoredHead {
  seq: string;
  hash: string;
  recordedAtText: string;
  headKeyId: string | null;
  headSignature: string | null;
}

export function signHead(origin: string, keyId: string, privateKey: KeyObject, head: Pick<ChainEntry, 'seq' | 'hash' | 'recordedAt'>): Checkpoint {
  return signCheckpoint({ origin, seq: head.seq, hash: head.hash, signedAt: head.recordedAt, keyId }, privateKey);
}

/** The checkpoint a stored head's signature makes, or null for an entry the recorder did not sign as a head. */
export function headCheckpoint(origin: string, head: StoredHead): Checkpoint | null {
  if (!head.headKeyId || !head.headSignature) return null;
  return { origin, seq: head.seq, hash: head.hash, signedAt: head.recordedAtText, keyId: head.headKeyId, signature: head.headSignature };
}

/** Whether a stored head carries the recorder's valid signature (any of its keys, old ones included). */
export function signedByRecorder(origin: string, head: StoredHead, keysFor: (keyId: string) => KeyObject | undefined): Checkpoint | null {
  const cp = headCheckpoint(origin, head);
  const key = cp ? keysFor(cp.keyId) : undefined;
  return cp && key && checkpointSignatureValid(cp, key) ? cp : null;
}

export function sameHead(a: { seq: string; hash: string } | null, b: { seq: string; hash: string } | null): boolean {
  return a !== null && b !== null && a.seq === b.seq && a.hash === b.hash;
}

/**
 * The id of the event that publishes a checkpoint: the same for the same checkpoint, so that two
 * instances publishing it within the stream's duplicate window store it once (NATS `msgID`). A UUID
 * of version 8 (RFC 9562: vendor-specific bits) from SHA-256 over origin, seq and hash.
 */
export function checkpointEventId(cp: Pick<Checkpoint, 'origin' | 'seq' | 'hash'>): string {
  const b = createHash('sha256').update(`pdp.audit.checkpointed\n${cp.origin}\n${cp.seq}\n${cp.hash}\n`).digest().subarray(0, 16);
  b[6] = (b[6]! & 0x0f) | 0x80;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const hex = b.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
