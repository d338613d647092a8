import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';

/**
 * Field encryption for personal data at rest: AES-256-GCM with a key id in every ciphertext, so keys
 * can be rotated (new writes use the first key, old values stay readable while their key is listed).
 * Format: `v1.<keyId>.<iv b64url>.<tag b64url>.<ciphertext b64url>`.
 */
export class FieldCipher {
  private readonly keys: Map<string, Buffer>;
  private readonly activeKeyId: string;

  constructor(spec: string) {
    this.keys = new Map();
    for (const entry of spec.split(',').map((s) => s.trim()).filter(Boolean)) {
      const [id, b64] = entry.split(':');
      const key = Buffer.from(b64 ?? '', 'base64');
      if (!id || key.length !== 32) throw new Error(`PD_ENCRYPTION_KEYS: key "${id ?? ''}" must be 32 bytes base64`);
      this.keys.set(id, key);
    }
    const first = this.keys.keys().next();
    if (first.done) throw new Error('PD_ENCRYPTION_KEYS: at least one key is required');
    this.activeKeyId = first.value;
  }

  encrypt(plain: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.keys.get(this.activeKeyId)!, iv);
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return ['v1', this.activeKeyId, iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), body.toString('base64url')].join('.');
  }

  decrypt(sealed: string): string {
    const [version, keyId, iv, tag, body] = sealed.split('.');
    const key = keyId ? this.keys.get(keyId) : undefined;
    if (version !== 'v1' || !key || !iv || !tag || body === undefined) throw new Error('unreadable ciphertext');
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
  }
}

/** Keyed blind index: finds a row by IIN without storing the IIN or an unkeyed hash of it. */
export function blindIndex(key: string, purpose: string, value: string): string {
  return createHmac('sha256', key).update(`${purpose}:${value}`).digest('base64url');
}

export function randomKeySpec(keyId = 'k1'): string {
  return `${keyId}:${randomBytes(32).toString('base64')}`;
}
