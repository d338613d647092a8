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
});
