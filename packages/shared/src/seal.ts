import { CompactEncrypt, compactDecrypt, exportJWK, generateKeyPair, importJWK, type JWK } from 'jose';
import { keyCache } from './key-cache';

/**
 * Sealed values: personal data that one service must hand to another are sealed as a compact JWE
 * (ECDH-ES+A256KW, A256GCM) addressed to the one recipient service, and travel as a hand-off outside
 * the event stream (`events/handoff.ts`), so they can be erased; only the holder of the recipient's
 * private key can open one.
 */
const ALG = 'ECDH-ES+A256KW';
const ENC = 'A256GCM';

export interface SealKeyPair {
  publicJwk: string;
  privateJwk: string;
}

export async function generateSealKeyPair(): Promise<SealKeyPair> {
  const { publicKey, privateKey } = await generateKeyPair(ALG, { crv: 'P-256', extractable: true });
  return {
    publicJwk: JSON.stringify(await exportJWK(publicKey)),
    privateJwk: JSON.stringify(await exportJWK(privateKey)),
  };
}

/**
 * Imported keys by their JWK text: a service seals to and opens with the same few configured keys,
 * and importing one (parsing, curve checks) cost more per hand-off than the ECDH itself (bench/intake
 * profile).
 */
const keyOf = keyCache(32, (jwk) => importJWK(JSON.parse(jwk) as JWK, ALG));

export async function seal(value: unknown, recipientPublicJwk: string): Promise<string> {
  const key = await keyOf(recipientPublicJwk);
  return new CompactEncrypt(new TextEncoder().encode(JSON.stringify(value)))
    .setProtectedHeader({ alg: ALG, enc: ENC })
    .encrypt(key);
}

export async function unseal<T>(jwe: string, privateJwk: string): Promise<T> {
  const key = await keyOf(privateJwk);
  const { plaintext } = await compactDecrypt(jwe, key);
  return JSON.parse(new TextDecoder().decode(plaintext)) as T;
}
