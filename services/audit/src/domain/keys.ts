import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { importSigningKey, importVerifyKey } from '@pdp/shared';
import { z } from 'zod';

/**
 * The audit's checkpoint keys (AUDIT_CHECKPOINT_KEYS): a JSON list, newest first, of
 * `{ "keyId": "…", "key": <Ed25519 JWK or PEM> }`. The first must be a private key: it signs every
 * new checkpoint and verification record. The others may be (and after a rotation should be) public
 * keys only: they stay listed so that what they signed still verifies. See docs/operations.md.
 */
export interface CheckpointKeys {
  signing: { keyId: string; privateKey: KeyObject };
  /** Every listed key, by id, the signing one included. */
  verify: Map<string, KeyObject>;
}

const KEY_ID = /^[A-Za-z0-9._-]{1,64}$/;
const listModel = z
  .array(z.object({ keyId: z.string().regex(KEY_ID, 'keyId: 1–64 letters, digits, ".", "_" or "-"'), key: z.unknown() }))
  .min(1, 'at least one key')
  .max(8, 'at most 8 keys');

/** Parses the list; returns the problems (never key material) or the keys. */
export function parseCheckpointKeys(text: string): { keys: CheckpointKeys | null; problems: string[] } {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { keys: null, problems: ['must be a JSON list, newest first, of {"keyId", "key"}'] };
  }
  const parsed = listModel.safeParse(raw);
  if (!parsed.success) return { keys: null, problems: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`) };
  const problems: string[] = [];
  const verify = new Map<string, KeyObject>();
  let signing: CheckpointKeys['signing'] | null = null;
  for (const [index, { keyId, key }] of parsed.data.entries()) {
    if (verify.has(keyId)) {
      problems.push(`${keyId}: listed twice`);
      continue;
    }
    const text = typeof key === 'string' ? key : JSON.stringify(key);
    const isPrivate = /PRIVATE KEY/.test(text) || /"d"\s*:/.test(text);
    try {
      if (isPrivate) {
        const privateKey = importSigningKey(text);
        verify.set(keyId, createPublicKey(privateKey));
        if (index === 0) signing = { keyId, privateKey };
      } else {
        verify.set(keyId, importVerifyKey(key));
      }
    } catch (err) {
      problems.push(`${keyId}: ${(err as Error).message}`);
    }
  }
  if (!signing && problems.length === 0) problems.push('the first (newest) key must be a private key: it signs new checkpoints');
  return problems.length > 0 || !signing ? { keys: null, problems } : { keys: { signing, verify }, problems };
}

export function checkpointKeys(text: string): CheckpointKeys {
  const { keys, problems } = parseCheckpointKeys(text);
  if (!keys) throw new Error(`AUDIT_CHECKPOINT_KEYS: ${problems.join('; ')}`);
  return keys;
}

/** A new key for AUDIT_CHECKPOINT_KEYS (npm start, tests): the list entry and the public key's PEM. */
export function generateCheckpointKey(keyId: string): { entry: { keyId: string; key: unknown }; publicKeyPem: string } {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  return { entry: { keyId, key: privateKey.export({ format: 'jwk' }) }, publicKeyPem: publicKey.export({ format: 'pem', type: 'spki' }).toString() };
}

export function publicKeyPem(key: KeyObject): string {
  return key.export({ format: 'pem', type: 'spki' }).toString();
}
