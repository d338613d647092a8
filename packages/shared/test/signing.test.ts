import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  EventSigner,
  EventVerifier,
  buildEnvelope,
  commonEnv,
  eventSignerFor,
  generateEventKeyPair,
  parseEnv,
  parseVerifyKeys,
  registerEventSigner,
  signingInput,
  type Envelope,
} from '../src';

const prefix = 'pdp';
const actor = { id: 'dpo-1', roles: ['DPO'] };
const pairs = {
  subjects: generateEventKeyPair(),
  appeals: generateEventKeyPair(),
  consents: generateEventKeyPair(),
  audit: generateEventKeyPair(),
};
const verifyKeys = (over: Record<string, unknown> = {}) =>
  JSON.stringify({ ...Object.fromEntries(Object.entries(pairs).map(([s, p]) => [s, JSON.parse(p.publicJwk)])), ...over });
const verifier = EventVerifier.fromJson(verifyKeys());
const signer = (service: keyof typeof pairs) => EventSigner.fromKey(service, pairs[service].privateJwk);

function erasureApproved() {
  return buildEnvelope({
    type: 'erasure.approved',
    source: 'subjects',
    actor,
    subjectId: randomUUID(),
    data: { actId: randomUUID(), method: 'DESTROY', services: ['subjects', 'appeals', 'consents'] },
  });
}

/** What a consumer receives: the envelope after jsonb (keys reordered) and JSON on the wire. */
function throughJsonb<T>(value: T): T {
  const reorder = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(reorder)
      : v && typeof v === 'object'
        ? Object.fromEntries(
            Object.entries(v)
              .reverse()
              .map(([k, x]) => [k, reorder(x)]),
          )
        : v;
  return JSON.parse(JSON.stringify(reorder(value))) as T;
}

const check = (e: object, subject = `${prefix}.events.${(e as Envelope).type}`) => verifier.check(e as Envelope, e, subject, prefix);

describe('event signatures (Ed25519 over RFC 8785 JSON)', () => {
  it('a signed envelope verifies after its keys were reordered, as jsonb does', () => {
    const signed = signer('subjects').sign(erasureApproved());
    expect(signed.signature).toMatch(/^[\w-]{86}$/);
    const received = throughJsonb(signed);
    expect(Object.keys(received)).not.toEqual(Object.keys(signed));
    expect(check(received)).toBeNull();
  });

  it('signs the canonical form: same bytes whatever the key order, and the signature itself is not covered', () => {
    const e = erasureApproved();
    expect(signingInput(throughJsonb(e)).equals(signingInput(e))).toBe(true);
    expect(signingInput({ ...e, signature: 'x' }).equals(signingInput(e))).toBe(true);
    expect(signingInput(e).toString('utf8')).toMatch(/^pdp\.event\.v1\n\{"actor":\{"id":"dpo-1","roles":\["DPO"\]\},"correlationId":null,"data":\{"actId":/);
  });

  it('refuses an unsigned event, one signed with another key, and any altered field', () => {
    const signed = signer('subjects').sign(erasureApproved());
    const { signature: _, ...unsigned } = signed;
    expect(check(unsigned)).toBe('UNSIGNED');
    expect(check({ ...signed, signature: '' })).toBe('UNSIGNED');
    const stranger = EventSigner.fromKey('subjects', generateEventKeyPair().privateJwk).sign(erasureApproved());
    expect(check(stranger)).toBe('BAD_SIGNATURE');
    expect(check({ ...signed, signature: 'AAAA' })).toBe('BAD_SIGNATURE');
    expect(check({ ...signed, data: { ...signed.data, method: 'DEPERSONALIZE' } })).toBe('BAD_SIGNATURE');
    expect(check({ ...signed, subjectId: randomUUID() })).toBe('BAD_SIGNATURE');
    expect(check({ ...signed, actor: { id: 'dpo-1', roles: ['DPO', 'CHAIRMAN'] } })).toBe('BAD_SIGNATURE');
    expect(check({ ...signed, id: randomUUID() })).toBe('BAD_SIGNATURE');
    // An extra field is an alteration too, even one the schema would strip.
    expect(check({ ...signed, extra: true })).toBe('BAD_SIGNATURE');
  });

  it('refuses a type from a service that does not own it, even signed with that service key', () => {
    const claimed = buildEnvelope({ type: 'subject.blocked', source: 'appeals', actor, subjectId: randomUUID(), data: { subjectId: randomUUID() } });
    expect(check(signer('appeals').sign(claimed))).toBe('WRONG_SOURCE');
    // The key of subjects cannot make it pass either: the source is part of what is signed.
    expect(() => signer('subjects').sign(claimed)).toThrow(/cannot sign events of appeals/);
  });

  it('a holder receipt must name its own source; "any" types verify against the claimed source key', () => {
    const receipt = (source: 'appeals' | 'consents', service: 'appeals' | 'consents') =>
      buildEnvelope({ type: 'erasure.receipt', source, actor, subjectId: randomUUID(), data: { actId: randomUUID(), method: 'DESTROY', service } });
    expect(check(signer('appeals').sign(receipt('appeals', 'appeals')))).toBeNull();
    expect(check(signer('appeals').sign(receipt('appeals', 'consents')))).toBe('RECEIPT_MISMATCH');
    const forged = receipt('consents', 'consents');
    expect(check({ ...forged, signature: signer('appeals').sign({ ...forged, source: 'appeals' }).signature })).toBe('BAD_SIGNATURE');
  });

  it('an event on another type’s subject is refused; an unknown signer too', () => {
    const signed = signer('subjects').sign(erasureApproved());
    expect(check(signed, `${prefix}.events.subject.blocked`)).toBe('WRONG_SUBJECT');
    const noGateway = EventVerifier.fromJson(verifyKeys());
    const fromGateway = EventSigner.fromKey('gateway', generateEventKeyPair().privateJwk).sign(
      buildEnvelope({ type: 'access.denied', source: 'gateway', actor, data: { operation: 'x', reason: 'ROLE' } }),
    );
    expect(noGateway.check(fromGateway, fromGateway, `${prefix}.events.access.denied`, prefix)).toBe('UNKNOWN_SIGNER');
  });

  it('rotation: a service may have two public keys listed; both verify', () => {
    const next = generateEventKeyPair();
    const rotating = EventVerifier.fromJson(verifyKeys({ subjects: [JSON.parse(next.publicJwk), JSON.parse(pairs.subjects.publicJwk)] }));
    for (const key of [next.privateJwk, pairs.subjects.privateJwk]) {
      const signed = EventSigner.fromKey('subjects', key).sign(erasureApproved());
      expect(rotating.check(signed, signed, `${prefix}.events.erasure.approved`, prefix)).toBeNull();
    }
    expect(rotating.trusts(EventSigner.fromKey('subjects', next.privateJwk))).toBe(true);
    expect(verifier.trusts(EventSigner.fromKey('subjects', next.privateJwk))).toBe(false);
  });

  it('accepts PEM keys as well as JWK', () => {
    const { publicKey, privateKey } = generateKeyPairSync('ed25519');
    const pemSigner = EventSigner.fromKey('audit', privateKey.export({ format: 'pem', type: 'pkcs8' }).toString());
    const pemVerifier = EventVerifier.fromJson(verifyKeys({ audit: publicKey.export({ format: 'pem', type: 'spki' }).toString() }));
    const signed = pemSigner.sign(
      buildEnvelope({ type: 'pd.accessed', source: 'audit', actor, data: { resource: 'audit_log', resourceIds: [], fields: [], operation: 'ACCESS' } }),
    );
    expect(pemVerifier.check(signed, signed, `${prefix}.events.pd.accessed`, prefix)).toBeNull();
  });

  it('configuration: every problem listed at once, never quoting key material', () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const ecJwk = JSON.stringify(privateKey.export({ format: 'jwk' }));
    const bad = {
      EVENT_SIGNING_KEY: ecJwk,
      EVENT_VERIFY_KEYS: JSON.stringify({ subjects: JSON.parse(pairs.subjects.privateJwk), appeals: 'nonsense', mallory: {} }),
    };
    let error: ConfigError | null = null;
    try {
      parseEnv({ signing: commonEnv.signing }, bad);
    } catch (err) {
      error = err as ConfigError;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect(error!.problems).toEqual([
      'EVENT_SIGNING_KEY: an Ed25519 key is required, not ec',
      'EVENT_VERIFY_KEYS: subjects: not a public key (an Ed25519 JWK or SPKI PEM)',
      'EVENT_VERIFY_KEYS: appeals: not a public key (an Ed25519 JWK or SPKI PEM)',
      'EVENT_VERIFY_KEYS: unknown service "mallory"',
      'EVENT_VERIFY_KEYS: consents: no public key',
      'EVENT_VERIFY_KEYS: audit: no public key',
    ]);
    const d = (JSON.parse(pairs.subjects.privateJwk) as { d: string }).d;
    expect(error!.message).not.toContain(d);
    expect(
      parseEnv({ signing: commonEnv.signing }, { EVENT_SIGNING_KEY: pairs.audit.privateJwk, EVENT_VERIFY_KEYS: verifyKeys() }).signing.EVENT_SIGNING_KEY,
    ).toBe(pairs.audit.privateJwk);
    expect(parseVerifyKeys('{').problems).toEqual(['must be a JSON object: service → public key (or a list of them)']);
  });

  it('signers are registered per events prefix and service, so several services share a process', () => {
    const a = signer('appeals');
    const other = EventSigner.fromKey('appeals', generateEventKeyPair().privateJwk);
    const offA = registerEventSigner('run_a', a);
    const offB = registerEventSigner('run_b', other);
    expect(eventSignerFor('run_a', 'appeals')).toBe(a);
    expect(eventSignerFor('run_b', 'appeals')).toBe(other);
    expect(() => eventSignerFor('run_a', 'consents')).toThrow(/no event signing key for consents/);
    // A second instance of the same service (a restart) and its stop leave the first in place.
    const again = registerEventSigner('run_a', signer('appeals'));
    again();
    expect(eventSignerFor('run_a', 'appeals')).toBe(a);
    offA();
    offB();
    expect(() => eventSignerFor('run_a', 'appeals')).toThrow();
  });
});
