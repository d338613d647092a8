import { CompactEncrypt, compactDecrypt, decodeProtectedHeader, importJWK, type JWK } from 'jose';
import { describe, expect, it } from 'vitest';
import {
  FieldCipher,
  FieldUnreadableError,
  blindIndex,
  fieldsUnreadable,
  generateSealKeyPair,
  parseKeySpec,
  randomKeySpec,
  seal,
  unseal,
  type EncryptedColumns,
} from '../src';
import { legacyCiphertext } from '../src/testing';

/** Two tables of a service, as kysely types them: the cipher binds values to their `*_enc` columns. */
interface TestDb {
  appeals: { id: string; status: string; phone_enc: string | null; email_enc: string | null };
  notes: { id: string; note_enc: string | null };
  statuses: { id: string; name: string };
}

const A = { table: 'appeals', column: 'phone_enc', id: '3f0c9a2e-1111-4222-8333-444455556666' } as const;
const B = { table: 'appeals', column: 'phone_enc', id: '7a1d2b3c-5555-4666-8777-888899990000' } as const;

/** The reason a value is refused, or null if it opened. */
function refusal(run: () => unknown): string | null {
  try {
    run();
    return null;
  } catch (err) {
    expect(err).toBeInstanceOf(FieldUnreadableError);
    // The place is named, never the value.
    expect((err as Error).message).not.toContain('900517300001');
    return (err as FieldUnreadableError).reason;
  }
}

/** Replaces one dot-separated part of a ciphertext (1 key id, 2 iv, 3 tag, 4 body). */
function withPart(sealed: string, index: number, value: string): string {
  const parts = sealed.split('.');
  parts[index] = value;
  return parts.join('.');
}

describe('field encryption', () => {
  it('round-trips in format v2 with a 16-byte tag, and never yields the same ciphertext twice', () => {
    const cipher = new FieldCipher<TestDb>('appeals', randomKeySpec('k1'));
    const a = cipher.encrypt('900517300001', A);
    expect(a).not.toContain('900517300001');
    expect(a).not.toBe(cipher.encrypt('900517300001', A));
    expect(a.startsWith('v2.k1.')).toBe(true);
    expect(Buffer.from(a.split('.')[3]!, 'base64url')).toHaveLength(16);
    expect(cipher.decrypt(a, A)).toBe('900517300001');
    expect(cipher.decrypt(cipher.encrypt('', A), A)).toBe('');
    expect(cipher.decrypt(cipher.encrypt('Қазақстан, «ұлы» дала', A), A)).toBe('Қазақстан, «ұлы» дала');
  });

  it('refuses a value moved to another row, column, table or service', () => {
    const spec = randomKeySpec('k1');
    const cipher = new FieldCipher<TestDb>('appeals', spec);
    const sealed = cipher.encrypt('900517300001', A);
    expect(refusal(() => cipher.decrypt(sealed, B))).toBe('AUTHENTICATION');
    expect(refusal(() => cipher.decrypt(sealed, { ...A, column: 'email_enc' }))).toBe('AUTHENTICATION');
    expect(refusal(() => cipher.decrypt(sealed, { table: 'notes', column: 'note_enc', id: A.id }))).toBe('AUTHENTICATION');
    // The same keys in another service (one PD_ENCRYPTION_KEYS for all): its rows are not these.
    expect(refusal(() => new FieldCipher<TestDb>('consents', spec).decrypt(sealed, A))).toBe('AUTHENTICATION');
    expect(cipher.decrypt(sealed, { ...A })).toBe('900517300001');
  });

  it('refuses a tag of any length but 16 bytes before trying it, and a tampered tag or body', () => {
    const cipher = new FieldCipher<TestDb>('appeals', randomKeySpec('k1'));
    const sealed = cipher.encrypt('900517300001', A);
    const tag = Buffer.from(sealed.split('.')[3]!, 'base64url');
    // GCM itself would check a truncated tag (down to 4 bytes) and accept it if it matches: a 4-byte
    // tag is forged in 2^32 tries. Only the whole tag is accepted.
    for (const length of [0, 4, 8, 12, 15]) {
      expect(refusal(() => cipher.decrypt(withPart(sealed, 3, tag.subarray(0, length).toString('base64url')), A))).toBe('TAG_LENGTH');
    }
    expect(refusal(() => cipher.decrypt(withPart(sealed, 3, Buffer.concat([tag, Buffer.from([0])]).toString('base64url')), A))).toBe('TAG_LENGTH');
    // 22 characters that are not base64url decode to fewer bytes.
    expect(refusal(() => cipher.decrypt(withPart(sealed, 3, '!'.repeat(22)), A))).toBe('TAG_LENGTH');
    const flipped = Buffer.from(tag);
    flipped[0]! ^= 1;
    expect(refusal(() => cipher.decrypt(withPart(sealed, 3, flipped.toString('base64url')), A))).toBe('AUTHENTICATION');
    expect(refusal(() => cipher.decrypt(withPart(sealed, 4, Buffer.from('other').toString('base64url')), A))).toBe('AUTHENTICATION');
    for (const bad of ['', 'v2', 'v2.k1', `${sealed}.x`, withPart(sealed, 0, 'v3'), withPart(sealed, 2, 'short')])
      expect(refusal(() => cipher.decrypt(bad, A))).toBe('FORMAT');
  });

  it('refuses an unknown key id, and a key id swapped for another listed key', () => {
    const old = randomKeySpec('k1');
    const cipher = new FieldCipher<TestDb>('appeals', `${randomKeySpec('k2')},${old}`);
    const sealed = cipher.encrypt('900517300001', A);
    expect(refusal(() => cipher.decrypt(withPart(sealed, 1, 'k9'), A))).toBe('UNKNOWN_KEY');
    expect(refusal(() => cipher.decrypt(withPart(sealed, 1, 'k1'), A))).toBe('AUTHENTICATION');
    // Once k2 is dropped from the list, what it sealed no longer opens.
    expect(refusal(() => new FieldCipher<TestDb>('appeals', old).decrypt(sealed, A))).toBe('UNKNOWN_KEY');
  });

  it('reads values under an older key after a rotation, writes with the new one, and knows which are current', () => {
    const old = randomKeySpec('k1');
    const before = new FieldCipher<TestDb>('appeals', old).encrypt('secret', A);
    const rotated = new FieldCipher<TestDb>('appeals', `${randomKeySpec('k2')},${old}`);
    expect(rotated.decrypt(before, A)).toBe('secret');
    expect(rotated.isCurrent(before)).toBe(false);
    const after = rotated.reencrypt(before, A);
    expect(after.split('.').slice(0, 2)).toEqual(['v2', 'k2']);
    expect(rotated.isCurrent(after)).toBe(true);
    expect(rotated.decrypt(after, A)).toBe('secret');
    expect(rotated.activeKeyId).toBe('k2');
  });

  it('opens a v1 value only in a table whose re-encryption has not completed, and never once it has', () => {
    const spec = randomKeySpec('k1');
    const v1 = legacyCiphertext(spec, '900517300001');
    const cipher = new FieldCipher<TestDb>('appeals', spec, { legacyTables: ['appeals'] });
    expect(cipher.acceptsLegacy('appeals')).toBe(true);
    // Bound to nothing: it opens in any row of the table — the attack v2 closes.
    expect(cipher.decrypt(v1, A)).toBe('900517300001');
    expect(cipher.decrypt(v1, B)).toBe('900517300001');
    expect(refusal(() => cipher.decrypt(v1, { table: 'notes', column: 'note_enc', id: A.id }))).toBe('RETIRED_FORMAT');
    const tag = Buffer.from(v1.split('.')[3]!, 'base64url');
    expect(refusal(() => cipher.decrypt(withPart(v1, 3, tag.subarray(0, 12).toString('base64url')), A))).toBe('TAG_LENGTH');
    cipher.retireLegacy('appeals');
    expect(refusal(() => cipher.decrypt(v1, A))).toBe('RETIRED_FORMAT');
    // By default no table takes v1.
    expect(refusal(() => new FieldCipher<TestDb>('appeals', spec).decrypt(v1, A))).toBe('RETIRED_FORMAT');
  });

  it('counts every refusal by place and reason, never by value', async () => {
    const cipher = new FieldCipher<TestDb>('appeals', randomKeySpec('k1'));
    const count = async () =>
      (await fieldsUnreadable.get()).values.find((v) => v.labels.service === 'appeals' && v.labels.table === 'notes' && v.labels.reason === 'AUTHENTICATION')
        ?.value ?? 0;
    const before = await count();
    const sealed = cipher.encrypt('x', { table: 'notes', column: 'note_enc', id: '1' });
    expect(refusal(() => cipher.decrypt(sealed, { table: 'notes', column: 'note_enc', id: '2' }))).toBe('AUTHENTICATION');
    expect(await count()).toBe(before + 1);
  });

  it('checks the keys: ids of a fixed alphabet, 32 bytes each, none twice, at least one', () => {
    const key = randomKeySpec('k1').split(':')[1]!;
    expect(parseKeySpec(`k2:${key},k1:${key}`).problems).toEqual([]);
    expect(parseKeySpec('').problems).toEqual(['at least one key is required']);
    expect(parseKeySpec('k1:abc').problems).toEqual(['key "k1" must be 32 bytes, base64']);
    expect(parseKeySpec(`k.1:${key}`).problems[0]).toMatch(/key id/);
    expect(parseKeySpec(`:${key}`).problems[0]).toMatch(/key id/);
    expect(parseKeySpec(`k1:${key},k1:${key}`).problems).toEqual(['key id "k1" is listed twice']);
    expect(() => new FieldCipher<TestDb>('appeals', 'k1:abc')).toThrow(/PD_ENCRYPTION_KEYS/);
  });

  it('makes the place a required, typed argument', () => {
    const cipher = new FieldCipher<TestDb>('appeals', randomKeySpec('k1'));
    // @ts-expect-error: no place, no ciphertext
    expect(() => cipher.encrypt('x')).toThrow();
    // @ts-expect-error: phone_enc is not a column of notes
    expect(() => cipher.encrypt('x', { table: 'notes', column: 'phone_enc', id: '1' })).not.toThrow();
    // @ts-expect-error: status is not an encrypted column
    expect(() => cipher.encrypt('x', { table: 'appeals', column: 'status', id: '1' })).not.toThrow();
    // @ts-expect-error: statuses holds nothing encrypted
    expect(() => cipher.encrypt('x', { table: 'statuses', column: 'name', id: '1' })).not.toThrow();
    // @ts-expect-error: the row id is part of the place
    expect(() => cipher.decrypt(cipher.encrypt('x', A), { table: 'appeals', column: 'phone_enc' })).toThrow();
    // The list of encrypted columns must name them all.
    // @ts-expect-error: email_enc is missing
    const incomplete: EncryptedColumns<TestDb> = { appeals: { phone_enc: true }, notes: { note_enc: true } };
    const complete: EncryptedColumns<TestDb> = { appeals: { phone_enc: true, email_enc: true }, notes: { note_enc: true } };
    expect(Object.keys(complete)).toEqual(Object.keys(incomplete));
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
    const flip = (i: number) =>
      parts.map((p, j) => (j === i ? Buffer.from(Buffer.from(p, 'base64url').map((b, k) => (k === 0 ? b ^ 1 : b))).toString('base64url') : p)).join('.');
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
