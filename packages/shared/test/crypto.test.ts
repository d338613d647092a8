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
});
