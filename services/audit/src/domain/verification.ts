import { sign, verify, type KeyObject } from 'node:crypto';

/**
 * A verification run's record, signed with the checkpoint key: a later run resumes after the
 * checkpoint it names (so its cost grows with new entries only), and nobody with only database
 * access can fake "verified up to here" to hide older changes from an incremental run.
 */
export interface VerificationNote {
  origin: string;
  verifiedAt: string;
  full: boolean;
  valid: boolean;
  headSeq: string;
  throughSeq: string | null;
  throughHash: string | null;
  keyId: string;
}

const CONTEXT = 'pdp.audit.verification.v1';

export function verificationText(n: VerificationNote): string {
  return [CONTEXT, n.origin, n.verifiedAt, String(n.full), String(n.valid), n.headSeq, n.throughSeq ?? '-', n.throughHash ?? '-', n.keyId, ''].join('\n');
}

export function signVerification(n: VerificationNote, key: KeyObject): string {
  return sign(null, Buffer.from(verificationText(n), 'utf8'), key).toString('base64');
}

export function verificationSignatureValid(n: VerificationNote, signature: string, key: KeyObject | undefined): boolean {
  if (!key) return false;
  const bytes = Buffer.from(signature, 'base64');
  return bytes.length === 64 && verify(null, Buffer.from(verificationText(n), 'utf8'), key, bytes);
}

export interface VerificationResult {
  valid: boolean;
  full: boolean;
  entriesChecked: number;
  checkpointsChecked: number;
  headSeq: string | null;
  resumedFromSeq: string | null;
  verifiedThroughSeq: string | null;
  firstInvalidSeq: string | null;
  reason: string | null;
  detail: string | null;
  verifiedAt: string;
}
