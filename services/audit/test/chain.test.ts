import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { signingInput } from '@pdp/shared';
import { describe, expect, it } from 'vitest';
import {
  ChainVerifier,
  GENESIS_HASH,
  canonical,
  checkpointSignatureValid,
  entryHash,
  signCheckpoint,
  type ChainEntry,
  type Checkpoint,
} from '../src/domain/chain';

// The RFC 8785 implementation the event signatures use (`canonicalize`, behind signingInput): the chain's own must agree.
const canonicalize = (v: unknown) =>
  signingInput({ v })
    .toString('utf8')
    .replace(/^pdp\.event\.v1\n/, '');

const { privateKey, publicKey } = generateKeyPairSync('ed25519');

function chain(n: number, every = 5): { entries: ChainEntry[]; checkpoints: Checkpoint[] } {
  const entries: ChainEntry[] = [];
  const checkpoints: Checkpoint[] = [];
  let prev = GENESIS_HASH;
  for (let i = 1; i <= n; i += 1) {
    const e: ChainEntry = {
      seq: String(i),
      hashVersion: 2,
      eventId: randomUUID(),
      type: 'pd.accessed',
      operation: 'ACCESS',
      source: 'appeals',
      actorId: `op-${i % 3}`,
      actorRoles: ['OPERATOR'],
      creditorId: null,
      purpose: 'APPEAL_HANDLING',
      outcome: 'ALLOWED',
      subjectId: randomUUID(),
      correlationId: randomUUID(),
      clientKey: null,
      resource: 'appeal',
      resourceIds: [randomUUID()],
      fields: ['phone'],
      occurredAt: `2026-11-25T10:00:0${i % 10}.000000Z`,
      recordedAt: `2026-11-25T10:00:0${i % 10}.040000Z`,
      details: { resource: 'appeal', fields: ['phone'] },
      prevHash: prev,
      hash: '',
    };
    e.hash = entryHash(e);
    prev = e.hash;
    entries.push(e);
    if (i % every === 0) checkpoints.push(signCheckpoint({ origin: 'o', seq: e.seq, hash: e.hash, signedAt: e.recordedAt, keyId: 'k1' }, privateKey));
  }
  return { entries, checkpoints };
}

function verify(entries: ChainEntry[], checkpoints: Checkpoint[]) {
  const v = new ChainVerifier(checkpoints, { keysFor: (id) => (id === 'k1' ? [publicKey] : []), origin: 'o' });
  for (const e of entries) if (!v.add(e)) break;
  return v.finish();
}

describe('the chain, pure', () => {
  it('its canonical JSON is RFC 8785, as `canonicalize` writes it', () => {
    const values = [
      { b: 1, a: [3, { z: null, y: 'ё' }], é: true, A: -0, n: 1e21, f: 0.1 + 0.2, s: 'a\u2028"\\' },
      ['x', { '\u{1F600}': 1, '\uFB33': 2, a: 3 }],
      'plain',
      null,
    ];
    for (const v of values) expect(canonical({ v })).toBe(canonicalize(v));
  });

  it('a version-2 hash covers every field of the entry but the hash itself', () => {
    const [e] = chain(1).entries;
    const changed: Record<string, unknown> = {
      seq: '2',
      hashVersion: 3,
      eventId: randomUUID(),
      type: 'x',
      operation: 'MODIFY',
      source: 'consents',
      actorId: 'other',
      actorRoles: ['DPO'],
      creditorId: 'c',
      purpose: 'CONTROL',
      outcome: 'DENIED',
      subjectId: null,
      correlationId: 'r',
      clientKey: 'f'.repeat(32),
      resource: 'r',
      resourceIds: [],
      fields: [],
      occurredAt: '2026-11-25T10:00:00.000001Z',
      recordedAt: '2026-11-25T10:00:00.000001Z',
      details: {},
      prevHash: '1'.repeat(64),
    };
    const fields = Object.keys(e!).filter((k) => k !== 'hash');
    expect(fields.sort()).toEqual(Object.keys(changed).sort());
    for (const [field, value] of Object.entries(changed)) expect(entryHash({ ...e!, [field]: value }), field).not.toBe(e!.hash);
    // And nothing else: an extra property (a line's `kind`) does not change it.
    expect(entryHash({ ...e!, kind: 'entry' } as ChainEntry)).toBe(e!.hash);
  });

  it('checkpoints verify with the public key only, and not once any field changed', () => {
    const { checkpoints } = chain(5);
    const cp = checkpoints[0]!;
    expect(checkpointSignatureValid(cp, publicKey)).toBe(true);
    for (const field of ['origin', 'seq', 'hash', 'signedAt', 'keyId'] as const)
      expect(checkpointSignatureValid({ ...cp, [field]: `${cp[field]}0` }, publicKey), field).toBe(false);
    expect(checkpointSignatureValid(cp, generateKeyPairSync('ed25519').publicKey)).toBe(false);
  });

  it('names the first bad entry of each kind of tampering', () => {
    const { entries, checkpoints } = chain(20);
    expect(verify(entries, checkpoints)).toBeNull();
    const edited = entries.map((e) => (e.seq === '7' ? { ...e, actorId: 'x' } : e));
    expect(verify(edited, checkpoints)).toMatchObject({ reason: 'HASH_MISMATCH', seq: '7' });
    expect(
      verify(
        entries.filter((e) => e.seq !== '8'),
        checkpoints,
      ),
    ).toMatchObject({ reason: 'SEQ_GAP', seq: '8' });
    const swapped = [...entries];
    [swapped[10], swapped[11]] = [swapped[11]!, swapped[10]!];
    expect(verify(swapped, checkpoints)).toMatchObject({ reason: 'SEQ_GAP', seq: '11' });
    // Cut after 17: entries 16 and 17 may be intact, but no checkpoint that still matches confirms them.
    expect(verify(entries.slice(0, 17), checkpoints)).toMatchObject({ reason: 'TRUNCATED', seq: '16', checkpointSeq: '20' });
    // Rewritten from entry 12 on, every later hash and link recomputed: the checkpoint at 15 disagrees.
    let prev = entries[10]!.hash;
    const rewritten = entries.map((e) => {
      if (Number(e.seq) < 12) return e;
      const r = { ...e, actorId: e.seq === '12' ? 'x' : e.actorId, prevHash: prev };
      r.hash = entryHash(r);
      prev = r.hash;
      return r;
    });
    expect(verify(rewritten, checkpoints)).toMatchObject({ reason: 'CHECKPOINT_MISMATCH', seq: '11', checkpointSeq: '15' });
    const forged = checkpoints.map((c) => (c.seq === '15' ? { ...c, hash: rewritten[14]!.hash } : c));
    expect(verify(rewritten, forged)).toMatchObject({ reason: 'CHECKPOINT_SIGNATURE', seq: '15' });
    expect(
      verify(
        entries,
        checkpoints.map((c) => ({ ...c, keyId: 'k2' })),
      ),
    ).toMatchObject({ reason: 'CHECKPOINT_KEY_UNKNOWN', seq: '5' });
  });

  it('entries slipped in after a signed head are named: the audit links its next entry past them, to the head it signed', () => {
    const { entries, checkpoints } = chain(10);
    const invented = link({ ...entries[9]!, seq: '11', eventId: randomUUID(), actorId: 'chairman-1' }, entries[9]!.hash);
    // The audit's own next entry continues from entry 10, its head, after the invented one.
    const next = link({ ...entries[9]!, seq: '12', eventId: randomUUID() }, entries[9]!.hash);
    expect(verify([...entries, invented, next], checkpoints)).toMatchObject({ reason: 'INSERTED', seq: '11' });
  });

  it('a tail cut back and then continued by the audit is a cut from the last confirmed entry, not a mere gap', () => {
    const { entries, checkpoints } = chain(20);
    // 18…20 deleted; the audit, which wrote 20, goes on at 21 from entry 20's hash.
    const next = link({ ...entries[19]!, seq: '21', eventId: randomUUID() }, entries[19]!.hash);
    expect(verify([...entries.slice(0, 17), next], checkpoints)).toMatchObject({ reason: 'TRUNCATED', seq: '16', checkpointSeq: '20' });
  });

  it('a renumbered tail the audit then continued is a rewrite from the last confirmed entry', () => {
    const { entries, checkpoints } = chain(20);
    // Entry 16 deleted, 17…20 renumbered 16…19 and relinked; the audit goes on at 20 from its head (the old 20).
    const relinked: ChainEntry[] = [];
    let prev = entries[14]!.hash;
    for (const [i, e] of entries.slice(16).entries()) {
      const r = link({ ...e, seq: String(16 + i) }, prev);
      relinked.push(r);
      prev = r.hash;
    }
    const next = link({ ...entries[19]!, seq: '20', eventId: randomUUID() }, entries[19]!.hash);
    expect(verify([...entries.slice(0, 15), ...relinked, next], checkpoints)).toMatchObject({ reason: 'CHECKPOINT_MISMATCH', seq: '16', checkpointSeq: '20' });
  });
});

/** An entry placed after `prevHash`, its hash recomputed (as anyone who knows the public rule can). */
function link(e: ChainEntry, prevHash: string): ChainEntry {
  const r = { ...e, prevHash };
  r.hash = entryHash(r);
  return r;
}
