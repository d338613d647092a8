import {
  createCipheriv,
  createDecipheriv,
  createECDH,
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  randomBytes,
  type ECDH,
  type JsonWebKey,
} from 'node:crypto';
import { keyCache } from './key-cache';

/**
 * Sealed values: personal data that one service must hand to another are sealed as a compact JWE
 * (RFC 7516; `ECDH-ES+A256KW` on P-256 with `A256GCM`, RFC 7518) addressed to the one recipient
 * service, and travel as a hand-off outside the event stream (`events/handoff.ts`), so they can be
 * erased; only the holder of the recipient's private key can open one.
 *
 * Written on node:crypto (OpenSSL) rather than through jose, whose Node build runs every step as a
 * WebCrypto job: a seal cost 1.2 ms of CPU and an opening 1.0 ms there, against about 0.2 ms here —
 * and every web-form submission makes two of each (bench/intake). The format is exactly jose's (the
 * tests seal with one and open with the other, both ways); opening accepts only what sealing makes.
 */
const ALG = 'ECDH-ES+A256KW';
const ENC = 'A256GCM';
const CURVE = 'prime256v1';
/** RFC 3394's default initial value: the key-wrap integrity check. */
const KW_IV = Buffer.from('A6A6A6A6A6A6A6A6', 'hex');

export interface SealKeyPair {
  publicJwk: string;
  privateJwk: string;
}

export async function generateSealKeyPair(): Promise<SealKeyPair> {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: CURVE });
  return { publicJwk: JSON.stringify(publicKey.export({ format: 'jwk' })), privateJwk: JSON.stringify(privateKey.export({ format: 'jwk' })) };
}

/**
 * A configured P-256 key from its JWK, checked once (curve, kind, the point on the curve), as what
 * the ECDH takes: the public point uncompressed, or an ECDH holding the private scalar.
 */
function importP256(jwk: JsonWebKey, kind: 'private'): ECDH;
function importP256(jwk: JsonWebKey, kind: 'public'): Buffer;
function importP256(jwk: JsonWebKey, kind: 'public' | 'private'): Buffer | ECDH {
  if (jwk.kty !== 'EC' || jwk.crv !== 'P-256') throw new Error('a P-256 key is required');
  if ((kind === 'private') !== (typeof jwk.d === 'string')) throw new Error(`a ${kind} key is required`);
  const key = kind === 'private' ? createPrivateKey({ key: jwk, format: 'jwk' }) : createPublicKey({ key: jwk, format: 'jwk' });
  if (key.asymmetricKeyDetails?.namedCurve !== CURVE) throw new Error('a P-256 key is required');
  if (kind === 'public') return point(jwk.x, jwk.y);
  const ecdh = createECDH(CURVE);
  ecdh.setPrivateKey(Buffer.from(jwk.d!, 'base64url'));
  return ecdh;
}

/** The uncompressed point 04 ‖ x ‖ y; the ECDH refuses one that is not on the curve. */
function point(x: unknown, y: unknown): Buffer {
  const coordinate = (c: unknown) => (typeof c === 'string' ? Buffer.from(c, 'base64url') : Buffer.alloc(0));
  const [bx, by] = [coordinate(x), coordinate(y)];
  if (bx.length !== 32 || by.length !== 32) throw new Error('a P-256 point is required');
  return Buffer.concat([Buffer.from([4]), bx, by]);
}

/**
 * Keys by their JWK text: a service seals to and opens with the same few configured keys, and
 * importing one (parsing, curve checks) cost more per hand-off than the ECDH itself.
 */
const publicKeyOf = keyCache(32, (jwk) => importP256(JSON.parse(jwk) as JsonWebKey, 'public'));
const privateKeyOf = keyCache(32, (jwk) => importP256(JSON.parse(jwk) as JsonWebKey, 'private'));

const lengthPrefixed = (bytes: Buffer) => Buffer.concat([uint32(bytes.length), bytes]);
function uint32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

/** The key-encryption key: Concat KDF (RFC 7518 §4.6.2) over the shared secret, one SHA-256 round for 256 bits. */
function keyEncryptionKey(z: Buffer): Buffer {
  const otherInfo = Buffer.concat([lengthPrefixed(Buffer.from(ALG)), lengthPrefixed(Buffer.alloc(0)), lengthPrefixed(Buffer.alloc(0)), uint32(256)]);
  return createHash('sha256').update(uint32(1)).update(z).update(otherInfo).digest();
}

export async function seal(value: unknown, recipientPublicJwk: string): Promise<string> {
  const recipient = publicKeyOf(recipientPublicJwk);
  const ephemeral = createECDH(CURVE);
  const epk = ephemeral.generateKeys();
  const kek = keyEncryptionKey(ephemeral.computeSecret(recipient));
  const cek = randomBytes(32);
  const wrap = createCipheriv('id-aes256-wrap', kek, KW_IV);
  const encryptedKey = Buffer.concat([wrap.update(cek), wrap.final()]);
  const [x, y] = [epk.subarray(1, 33).toString('base64url'), epk.subarray(33).toString('base64url')];
  const header = Buffer.from(JSON.stringify({ alg: ALG, enc: ENC, epk: { x, crv: 'P-256', kty: 'EC', y } })).toString('base64url');
  const iv = randomBytes(12);
  const gcm = createCipheriv('aes-256-gcm', cek, iv);
  gcm.setAAD(Buffer.from(header, 'ascii'));
  const ciphertext = Buffer.concat([gcm.update(JSON.stringify(value), 'utf8'), gcm.final()]);
  return [header, encryptedKey, iv, ciphertext, gcm.getAuthTag()].map((part) => (typeof part === 'string' ? part : part.toString('base64url'))).join('.');
}

const B64URL = /^[A-Za-z0-9_-]*$/;

/** Opens a value sealed to `privateJwk`; throws (saying nothing of the content) on anything else. */
export async function unseal<T>(jwe: string, privateJwk: string): Promise<T> {
  const key = privateKeyOf(privateJwk);
  const parts = jwe.split('.');
  if (parts.length !== 5 || !parts.every((p) => B64URL.test(p))) throw new Error('not a compact JWE');
  const [header, encryptedKey, iv, ciphertext, tag] = parts as [string, string, string, string, string];
  let protectedHeader: { alg?: unknown; enc?: unknown; epk?: JsonWebKey };
  try {
    protectedHeader = JSON.parse(Buffer.from(header, 'base64url').toString('utf8'));
  } catch {
    throw new Error('not a compact JWE');
  }
  const keys = Object.keys(protectedHeader ?? {})
    .sort()
    .join(',');
  if (
    keys !== 'alg,enc,epk' ||
    protectedHeader.alg !== ALG ||
    protectedHeader.enc !== ENC ||
    typeof protectedHeader.epk !== 'object' ||
    protectedHeader.epk === null
  ) {
    throw new Error(`only ${ALG} with ${ENC} is accepted`);
  }
  const { kty, crv, x, y } = protectedHeader.epk;
  if (kty !== 'EC' || crv !== 'P-256') throw new Error('a P-256 key is required');
  const kek = keyEncryptionKey(key.computeSecret(point(x, y)));
  const unwrap = createDecipheriv('id-aes256-wrap', kek, KW_IV);
  const cek = Buffer.concat([unwrap.update(Buffer.from(encryptedKey, 'base64url')), unwrap.final()]);
  const authTag = Buffer.from(tag, 'base64url');
  const nonce = Buffer.from(iv, 'base64url');
  if (cek.length !== 32 || authTag.length !== 16 || nonce.length !== 12) throw new Error('not a compact JWE');
  const gcm = createDecipheriv('aes-256-gcm', cek, nonce, { authTagLength: 16 });
  gcm.setAAD(Buffer.from(header, 'ascii'));
  gcm.setAuthTag(authTag);
  const plaintext = Buffer.concat([gcm.update(Buffer.from(ciphertext, 'base64url')), gcm.final()]);
  return JSON.parse(plaintext.toString('utf8')) as T;
}
