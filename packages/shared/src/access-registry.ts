/**
 * The access registry as the gateways see it (Law Art. 25(3), clause 7.2.3). appeals owns the
 * registry (docs/architecture.md, "Sign-in and the access registry"); every appeals instance writes
 * what the database holds for each account into the NATS KV bucket `<PREFIX>_EVENTS_ACCESS`, and
 * every gateway watches that bucket, so a grant, a revocation or a creditor's suspension reaches the
 * gateways as a message within a second, and no request asks a subgraph who its caller is.
 *
 * - One entry per account that ever had a grant (`a.<sha256 of the account>`): its roles and creditor
 *   now, or none (a revoked account keeps an entry with no roles, so a later writer cannot mistake a
 *   missing key for "never seen"). Each entry has the registry's `version` of its last change: a
 *   writer replaces an entry only with a newer version (compare-and-set on the KV revision), so two
 *   appeals instances writing at once cannot put an older state back.
 * - A gateway knows its view is current when it has read the bucket up to the stream's last
 *   message (it asks JetStream every second); one that cannot confirm that for
 *   `ACCESS_MAX_STALENESS_SECONDS` refuses signed-in requests (gateway/src/access.ts).
 * - Every value is signed with appeals' event key (a detached signature, context `pdp.access.v1`)
 *   and names its key: a NATS user that could write the bucket still could not make up an entry, nor
 *   move one account's entry to another's key.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { ROLES } from './auth/actor';
import { streamName } from './events/envelope';
import type { EventSigner, EventVerifier } from './events/signing';

export const ACCESS_CONTEXT = 'pdp.access.v1\n';

export function accessBucket(prefix: string): string {
  return `${streamName(prefix)}_ACCESS`;
}

export function accessKey(account: string): string {
  return `a.${createHash('sha256').update(account, 'utf8').digest('hex')}`;
}

export const accessEntrySchema = z.object({
  account: z.string().min(1).max(200),
  /** Empty: the account has no active grant. */
  roles: z.array(z.enum(ROLES)).max(ROLES.length),
  creditorId: z.uuid().nullable(),
  /** The partner's creditor is suspended: its accounts may do nothing but `me`. */
  creditorSuspended: z.boolean(),
  grantId: z.uuid().nullable(),
  version: z.number().int().nonnegative(),
});
export type AccessEntry = z.infer<typeof accessEntrySchema>;

const signedValue = z.object({ key: z.string(), value: z.unknown(), signature: z.string() });

/** The bytes to put under `key`: the value, the key it belongs under, and appeals' signature. */
export function signAccessValue(signer: EventSigner, key: string, value: AccessEntry): Uint8Array {
  const signature = signer.signDetached(ACCESS_CONTEXT, { key, value });
  return new TextEncoder().encode(JSON.stringify({ key, value, signature }));
}

/** The value under `key` if appeals signed it for that key, else null (the caller logs and ignores it). */
export function readAccessValue(verifier: EventVerifier, key: string, bytes: Uint8Array): AccessEntry | null {
  let parsed: z.infer<typeof signedValue>;
  try {
    parsed = signedValue.parse(JSON.parse(new TextDecoder().decode(bytes)));
  } catch {
    return null;
  }
  if (parsed.key !== key || !verifier.verifyDetached('appeals', ACCESS_CONTEXT, { key: parsed.key, value: parsed.value }, parsed.signature)) return null;
  const entry = accessEntrySchema.safeParse(parsed.value).data;
  return entry && accessKey(entry.account) === key ? entry : null;
}
