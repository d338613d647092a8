import { CompactEncrypt, compactDecrypt, decodeProtectedHeader, importJWK, type JWK } from 'jose';
import { describe, expect, it } from 'vitest';
import { FieldCipher, blindIndex, generateSealKeyPair, randomKeySpec, seal, unseal } from '../src';

describe('field encryption', () => {
  it('round-trips and never yields the same ciphertext twice', () => {
    const cipher = new FieldCipher(randomKeySpec('k1'));
    const a = cipher.encrypt('900517300001');
    expect(a).not.toContain('900517300001');
    expect(a).not.toBe(cipher.encrypt('900517300001'));
    expect(cipher.decrypt(a)).toBe('900517300001');
  });

  it('reads old values after a key rotation and writes with the new key', () => {
    const old = randomKeySpec('k1');
    const before = new FieldCipher(old).encrypt('secret');
    const rotated = new FieldCipher(`${randomKeySpec('k2')},${old}`);
    expect(rotated.decrypt(before)).toBe('secret');
    expect(rotated.encrypt('x').split('.')[1]).toBe('k2');
  });

  it('refuses tampered ciphertext', () => {
    const cipher = new FieldCipher(randomKeySpec());
    const parts = cipher.encrypt('secret').split('.');
    parts[4] = Buffer.from('other').toString('base64url');
    expect(() => cipher.decrypt(parts.join('.'))).toThrow();
  });

  it('blind index is keyed and deterministic', () => {
    expect(blindIndex('key-a', 'iin', '1')).toBe(blindIndex('key-a', 'iin', '1'));
    expect(blindIndex('key-a', 'iin', '1')).not.toBe(blindIndex('key-b', 'iin', '1'));
  });
});

describe('sealed values', () => {
  it('only the recipient opens them', async () => {
    const recipient = await generateSealKeyPair();
    const other = await generateSealKeyPair();
    const jwe = await seal({ iin: '900517300001' }, recipient.publicJwk);
    expect(jwe).not.toContain('900517300001');
    expect(await unseal(jwe, recipient.privateJwk)).toEqual({ iin: '900517300001' });
    await expect(unseal(jwe, other.privateJwk)).rejects.toThrow();
  });

  it('keys imported once stay apart: many recipients, each opening only its own, a bad key refused every time', async () => {
    const pairs = await Promise.all(Array.from({ length: 40 }, () => generateSealKeyPair())); // more than the import cache holds
    const jwes = await Promise.all(pairs.map((p, i) => seal({ n: i }, p.publicJwk)));
    for (const [i, p] of pairs.entries()) {
      expect(await unseal(jwes[i]!, p.privateJwk)).toEqual({ n: i });
      await expect(unseal(jwes[(i + 1) % pairs.length]!, p.privateJwk)).rejects.toThrow();
    }
    // Sealing again to a key seen before (cached) still opens with its own private key only.
    const again = await seal({ n: 'again' }, pairs[0]!.publicJwk);
    expect(await unseal(again, pairs[0]!.privateJwk)).toEqual({ n: 'again' });
    await expect(unseal(again, pairs[1]!.privateJwk)).rejects.toThrow();
    for (let attempt = 0; attempt < 2; attempt += 1) {
      await expect(seal({ n: 1 }, '{"kty":"EC","crv":"P-256","x":"AAAA","y":"AAAA"}')).rejects.toThrow();
      await expect(seal({ n: 1 }, 'not json')).rejects.toThrow();
    }
  });

  // The format is the standard compact JWE (RFC 7516/7518) that jose writes and reads: a hand-off
  // sealed before the switch to node:crypto still opens, and a standard library opens ours.
  const jose = (jwk: string) => importJWK(JSON.parse(jwk) as JWK, 'ECDH-ES+A256KW');
  it('is the compact JWE jose writes and reads, both ways', async () => {
    const recipient = await generateSealKeyPair();
    const ours = await seal({ iin: '900517300001', ip: '10.0.0.1' }, recipient.publicJwk);
    expect(decodeProtectedHeader(ours)).toMatchObject({ alg: 'ECDH-ES+A256KW', enc: 'A256GCM', epk: { kty: 'EC', crv: 'P-256' } });
    const { plaintext } = await compactDecrypt(ours, await jose(recipient.privateJwk));
    expect(JSON.parse(new TextDecoder().decode(plaintext))).toEqual({ iin: '900517300001', ip: '10.0.0.1' });
    const theirs = await new CompactEncrypt(new TextEncoder().encode(JSON.stringify({ iin: '900517300002' })))
      .setProtectedHeader({ alg: 'ECDH-ES+A256KW', enc: 'A256GCM' })
      .encrypt(await jose(recipient.publicJwk));
    expect(await unseal(theirs, recipient.privateJwk)).toEqual({ iin: '900517300002' });
  });

  it('opens nothing but what it seals: altered parts, other algorithms, extra header fields, a point off the curve', async () => {
    const recipient = await generateSealKeyPair();
    const jwe = await seal({ iin: '900517300001' }, recipient.publicJwk);
    const parts = jwe.split('.');
    const header = JSON.parse(Buffer.from(parts[0]!, 'base64url').toString());
    const withHeader = (h: object) => [Buffer.from(JSON.stringify(h)).toString('base64url'), ...parts.slice(1)].join('.');
    const flip = (i: number) => parts.map((p, j) => (j === i ? Buffer.from(Buffer.from(p, 'base64url').map((b, k) => (k === 0 ? b ^ 1 : b))).toString('base64url') : p)).join('.');
    const otherPoint = JSON.parse((await generateSealKeyPair()).publicJwk);
    const bad = [
      flip(1), // the wrapped key
      flip(2), // the IV
      flip(3), // the ciphertext
      flip(4), // the tag
      withHeader({ ...header, enc: 'A128GCM' }),
      withHeader({ ...header, alg: 'ECDH-ES' }),
      withHeader({ ...header, zip: 'DEF' }),
      withHeader({ ...header, epk: { ...header.epk, y: otherPoint.y } }), // not on the curve
      withHeader({ ...header, epk: otherPoint }), // another sender's key: the unwrap fails
      parts.slice(0, 4).join('.'),
      `${jwe}.x`,
      'not a jwe',
    ];
    for (const token of bad) await expect(unseal(token, recipient.privateJwk)).rejects.toThrow();
    expect(await unseal(jwe, recipient.privateJwk)).toEqual({ iin: '900517300001' });
  });
});
