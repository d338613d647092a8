import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import canonicalize from 'canonicalize';
import { z } from 'zod';
import { EVENT_CATALOG, HOLDER_RECEIPTS, SERVICES, type RejectionReason, type ServiceName } from './catalog';
import type { Envelope } from './envelope';

/**
 * Event signatures: only the service that owns an event type may produce it, and nobody may alter it
 * on the way. Each service signs every envelope it enqueues with its own Ed25519 key; every consumer
 * checks, before its handler runs, that the type may come from the envelope's `source` and that the
 * signature verifies with that service's public key (docs/events.md, "Signatures").
 *
 * What is signed: the bytes of `pdp.event.v1\n` followed by the envelope without `signature`, as
 * RFC 8785 canonical JSON (the `canonicalize` package): the outbox keeps the payload as jsonb, which
 * reorders keys, so the signer and the verifier must agree on one serialization of the same values.
 *
 * Keys are imported once (`EventSigner`, `EventVerifier`); signing and verifying are then one
 * canonical serialization and one Ed25519 operation each (about 0.1 and 0.2 ms).
 */
const CONTEXT = 'pdp.event.v1\n';
const SIGNATURE_BYTES = 64;

/** An envelope as it travels: the catalog's fields plus the producer's signature. */
export type SignedEnvelope<E = Envelope> = E & { signature: string };

export interface EventKeyPair {
  /** Ed25519 public JWK (`{"kty":"OKP","crv":"Ed25519","x":…}`), for every service's EVENT_VERIFY_KEYS. */
  publicJwk: string;
  /** Ed25519 private JWK: this service's EVENT_SIGNING_KEY only. */
  privateJwk: string;
}

export function generateEventKeyPair(): EventKeyPair {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  return {
    publicJwk: JSON.stringify(publicKey.export({ format: 'jwk' })),
    privateJwk: JSON.stringify(privateKey.export({ format: 'jwk' })),
  };
}

/** The bytes a signature covers: everything in the envelope but the signature, canonical. */
export function signingInput(envelope: object): Buffer {
  const { signature: _, ...unsigned } = envelope as { signature?: unknown };
  const json = canonicalize(unsigned);
  if (json === undefined) throw new Error('an envelope must be a JSON object');
  return Buffer.from(CONTEXT + json, 'utf8');
}

/** Reads an Ed25519 private key given as a JWK (JSON text) or PKCS#8 PEM; the error never quotes it. */
export function importSigningKey(text: string): KeyObject {
  let key: KeyObject;
  try {
    key = text.trimStart().startsWith('-----BEGIN') ? createPrivateKey(text) : createPrivateKey({ key: JSON.parse(text), format: 'jwk' });
  } catch {
    throw new Error('not a private key (an Ed25519 JWK or PKCS#8 PEM)');
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new Error(`an Ed25519 key is required, not ${key.asymmetricKeyType ?? 'unknown'}`);
  return key;
}

/** Reads an Ed25519 public key given as a JWK (object or JSON text) or SPKI PEM. */
export function importVerifyKey(value: unknown): KeyObject {
  let key: KeyObject;
  try {
    if (typeof value === 'string' && value.trimStart().startsWith('-----BEGIN')) key = createPublicKey(value);
    else {
      const jwk = typeof value === 'string' ? JSON.parse(value) : value;
      if (!jwk || typeof jwk !== 'object' || 'd' in jwk) throw new Error('not a public JWK');
      key = createPublicKey({ key: jwk as import('node:crypto').JsonWebKey, format: 'jwk' });
    }
  } catch {
    throw new Error('not a public key (an Ed25519 JWK or SPKI PEM)');
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new Error(`an Ed25519 key is required, not ${key.asymmetricKeyType ?? 'unknown'}`);
  return key;
}

/** One service's signing key, imported once. */
export class EventSigner {
  readonly publicKey: KeyObject;

  private constructor(
    readonly service: ServiceName,
    private readonly key: KeyObject,
  ) {
    this.publicKey = createPublicKey(key);
  }

  static fromKey(service: ServiceName, privateKey: string): EventSigner {
    return new EventSigner(service, importSigningKey(privateKey));
  }

  /** The envelope with its signature; throws when asked to sign for another service. */
  sign<E extends Envelope>(envelope: E): SignedEnvelope<E> {
    if (envelope.source !== this.service) throw new Error(`the ${this.service} key cannot sign events of ${envelope.source}`);
    const signature = sign(null, signingInput(envelope), this.key).toString('base64url');
    return { ...envelope, signature };
  }

  /**
   * A signature over a JSON value that is not an event (the access registry's entries, say): the
   * bytes are `context` (e.g. `pdp.access.v1\n`, never the events' own) and the value as RFC 8785
   * canonical JSON, so a signature made for one purpose never verifies for another.
   */
  signDetached(context: string, value: unknown): string {
    return sign(null, detachedInput(context, value), this.key).toString('base64url');
  }
}

function detachedInput(context: string, value: unknown): Buffer {
  if (context === CONTEXT || !context.endsWith('\n')) throw new Error('a detached signature needs a context of its own, ending in a newline');
  const json = canonicalize(value);
  if (json === undefined) throw new Error('only JSON values are signed');
  return Buffer.from(context + json, 'utf8');
}

/** The keys a consumer trusts: each service's public key, or a short list of them during a rotation. */
const verifyKeysModel = z.record(z.string(), z.union([z.array(z.unknown()).min(1).max(4), z.unknown()]));

/** Services that must have a verify key: every one that produces events today. */
export const EVENT_PRODUCERS: readonly ServiceName[] = ['subjects', 'appeals', 'consents', 'audit'];

/**
 * Parses EVENT_VERIFY_KEYS: a JSON object, service → public key or list of public keys (JWK object,
 * JWK text or SPKI PEM). Returns the problems (never key material) or the imported keys.
 */
export function parseVerifyKeys(text: string): { keys: Map<ServiceName, KeyObject[]>; problems: string[] } {
  const keys = new Map<ServiceName, KeyObject[]>();
  const problems: string[] = [];
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { keys, problems: ['must be a JSON object: service → public key (or a list of them)'] };
  }
  const parsed = verifyKeysModel.safeParse(raw);
  if (!parsed.success) return { keys, problems: ['must be a JSON object: service → public key (or a list of up to 4)'] };
  for (const [service, value] of Object.entries(parsed.data)) {
    if (!(SERVICES as readonly string[]).includes(service)) {
      problems.push(`unknown service "${service.slice(0, 40)}"`);
      continue;
    }
    const list = Array.isArray(value) ? value : [value];
    try {
      keys.set(service as ServiceName, list.map(importVerifyKey));
    } catch (err) {
      problems.push(`${service}: ${(err as Error).message}`);
    }
  }
  for (const service of EVENT_PRODUCERS)
    if (!keys.has(service) && !problems.some((p) => p.startsWith(`${service}:`))) problems.push(`${service}: no public key`);
  return { keys, problems };
}

/** Checks received envelopes against the configured public keys, imported once. */
export class EventVerifier {
  private constructor(private readonly keys: Map<ServiceName, KeyObject[]>) {}

  static fromJson(text: string): EventVerifier {
    const { keys, problems } = parseVerifyKeys(text);
    if (problems.length > 0) throw new Error(`EVENT_VERIFY_KEYS: ${problems.join('; ')}`);
    return new EventVerifier(keys);
  }

  /** Whether `signature` is `service`'s over `value` in `context` (see `EventSigner.signDetached`). */
  verifyDetached(service: ServiceName, context: string, value: unknown, signature: string): boolean {
    const bytes = Buffer.from(signature, 'base64url');
    if (bytes.length !== SIGNATURE_BYTES) return false;
    let input: Buffer;
    try {
      input = detachedInput(context, value);
    } catch {
      return false;
    }
    return (this.keys.get(service) ?? []).some((key) => verify(null, input, key, bytes));
  }

  /** True when `signer`'s events will verify here (its public key is listed for its service). */
  trusts(signer: EventSigner): boolean {
    return (this.keys.get(signer.service) ?? []).some((k) => k.equals(signer.publicKey));
  }

  /**
   * Why `event` must not have effect, or null when it may: it came on its type's subject, from a
   * service that may produce the type (a holder's receipt names that holder), signed by that service
   * over exactly what was received (`raw`, the envelope as parsed from the message, signature included).
   */
  check(event: Envelope, raw: object, subject: string, prefix: string): RejectionReason | null {
    if (subject !== `${prefix}.events.${event.type}`) return 'WRONG_SUBJECT';
    const owner = EVENT_CATALOG[event.type].source;
    if (owner !== 'any' && owner !== event.source) return 'WRONG_SOURCE';
    if ((HOLDER_RECEIPTS as readonly string[]).includes(event.type) && (event.data as { service?: unknown }).service !== event.source) {
      return 'RECEIPT_MISMATCH';
    }
    const signature = (raw as { signature?: unknown }).signature;
    if (typeof signature !== 'string' || signature.length === 0) return 'UNSIGNED';
    const keys = this.keys.get(event.source);
    if (!keys || keys.length === 0) return 'UNKNOWN_SIGNER';
    const bytes = Buffer.from(signature, 'base64url');
    if (bytes.length !== SIGNATURE_BYTES) return 'BAD_SIGNATURE';
    let input: Buffer;
    try {
      input = signingInput(raw);
    } catch {
      return 'BAD_SIGNATURE';
    }
    return keys.some((key) => verify(null, input, key, bytes)) ? null : 'BAD_SIGNATURE';
  }
}

/**
 * The signer of each running service, by events prefix and service name. `enqueueEvent` looks the
 * producer up here, so the many call sites need not carry a key; several services (and several
 * systems with their own prefixes) share one process in tests, hence no single module-level key.
 */
const signers = new Map<string, EventSigner[]>();
const slot = (prefix: string, service: ServiceName) => `${prefix}\u0000${service}`;

/** Registers a running service's signer; the returned function removes this registration. */
export function registerEventSigner(prefix: string, signer: EventSigner): () => void {
  const key = slot(prefix, signer.service);
  const list = signers.get(key) ?? [];
  list.push(signer);
  signers.set(key, list);
  return () => {
    const current = signers.get(key) ?? [];
    const at = current.lastIndexOf(signer);
    if (at >= 0) current.splice(at, 1);
    if (current.length === 0) signers.delete(key);
  };
}

export function eventSignerFor(prefix: string, service: ServiceName): EventSigner {
  const signer = signers.get(slot(prefix, service))?.at(-1);
  if (!signer) throw new Error(`no event signing key for ${service} (events prefix ${prefix}): the service must be started with EVENT_SIGNING_KEY`);
  return signer;
}
