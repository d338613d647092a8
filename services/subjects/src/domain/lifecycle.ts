import type { PdHolder } from '@pdp/shared';
import type { SubjectStatus } from './subject';

export type ErasureMethod = 'DESTROY' | 'DEPERSONALIZE';
export type ErasureActStatus = 'PROPOSED' | 'APPROVED' | 'COMPLETED' | 'REJECTED';
export type RectificationStatus = 'PENDING' | 'APPROVED' | 'REJECTED' | 'APPLIED';

/** Which service holds each field a subject may ask to correct (6.1.2). */
export const RECTIFIABLE_FIELDS: Record<string, PdHolder> = {
  iin: 'subjects',
  phone: 'appeals',
  email: 'appeals',
};

/** Blocking stops processing of a live subject; unblocking restores it. */
export function canBlock(status: SubjectStatus): boolean {
  return status === 'ACTIVE';
}

export function canUnblock(status: SubjectStatus): boolean {
  return status === 'BLOCKED';
}

/** Erasure applies to data still held: an active or a blocked subject (6.1.4 often follows a block). */
export function canErase(status: SubjectStatus): boolean {
  return status === 'ACTIVE' || status === 'BLOCKED';
}

/** The status a subject ends in after an erasure act is carried out. */
export function statusAfter(method: ErasureMethod): SubjectStatus {
  return method === 'DESTROY' ? 'DESTROYED' : 'DEPERSONALIZED';
}

/** An act is complete when every expected holder has sent its receipt. */
export function isComplete(expected: readonly string[], confirmed: readonly string[]): boolean {
  return expected.every((s) => confirmed.includes(s));
}
