import { createCipheriv, randomBytes, randomUUID } from 'node:crypto';
import { connect } from 'nats';
import { ACTOR_HEADER, ActorTokenSigner, type Actor } from '../auth/actor';
import { randomKeySpec } from '../crypto';
import { ensureDatabase } from '../db';
import { SERVICES, type EventType, type PdHolder } from '../events/catalog';
import { buildEnvelope, natsSubject, type Envelope, type NewEvent } from '../events/envelope';
import { EventSigner, generateEventKeyPair } from '../events/signing';
import { handoffMessage, handoffSubject, sealHandoff } from '../events/handoff';
import type { ServiceConfig } from '../runtime';
import { iinCheckDigit } from '../iin';

/** A valid IIN for a birth date and sex, with a serial of the caller's choice (tests and benches). */
export function makeIin(birth: string, sex: 'M' | 'F' = 'M', serial = 1): string {
  const [y, m, d] = birth.split('-');
  const year = Number(y);
  const century = year < 1900 ? 1 : year < 2000 ? 3 : 5;
  const digit = century + (sex === 'F' ? 1 : 0);
  for (let s = serial; s < serial + 10_000; s += 1) {
    const first11 = `${y!.slice(2)}${m}${d}${digit}${String(s % 10_000).padStart(4, '0')}`;
    const check = iinCheckDigit(first11);
    if (check !== null) return `${first11}${check}`;
  }
  throw new Error('no valid IIN found');
}

/**
 * The one polling helper of the suite (tests/, the services' and packages' tests, the benches): asks
 * `probe` every `intervalMs` until it returns a value other than undefined, null or false, and
 * returns that value. A probe that throws is asked again (a server not up yet); after `timeoutMs`
 * it fails naming `what` and the last error. Wait for an outcome with it, never for a fixed time.
 */
export async function eventually<T>(probe: () => Promise<T | undefined | null | false>, timeoutMs = 10_000, what = 'condition', intervalMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== null && value !== false) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() >= deadline) break;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last instanceof Error ? `: ${last.message}` : ''}`);
}

/**
 * One event key pair that every service of an isolated test shares: the service under test signs
 * with it and trusts it for every source, and `publishEvent` signs as any other service would.
 * (The whole System gives each service its own key, as production does.)
 */
let sharedTestEventKey: ReturnType<typeof generateEventKeyPair> | null = null;
function testEventKey() {
  return (sharedTestEventKey ??= generateEventKeyPair());
}

/** The gateway's actor-token key of isolated service tests: `callSubgraph` signs with it as the gateway would. */
let sharedActorSigner: ActorTokenSigner | null = null;
export function testActorSigner(): ActorTokenSigner {
  return (sharedActorSigner ??= ActorTokenSigner.fromKey(generateEventKeyPair().privateJwk));
}

/**
 * A service's configuration for an integration test of that service alone: its own fresh database
 * and event stream prefix on the test servers, random keys, a random port.
 */
export async function isolatedServiceConfig<Extra>(serverUrl: string, natsUrl: string, label: string, extra: Extra): Promise<ServiceConfig<Extra>> {
  const prefix = label.toLowerCase().replace(/[^a-z0-9_]/g, '_');
  return {
    port: 0,
    host: '127.0.0.1',
    databaseUrl: await ensureDatabase(serverUrl, `${prefix}_db`),
    dbPoolMax: 5,
    natsUrl,
    eventsPrefix: prefix,
    actorVerifyKeys: testActorSigner().publicJwk,
    encryptionKeys: randomKeySpec('k1'),
    blindIndexKey: randomBytes(32).toString('base64url'),
    eventSigningKey: testEventKey().privateJwk,
    eventVerifyKeys: JSON.stringify(Object.fromEntries(SERVICES.map((s) => [s, JSON.parse(testEventKey().publicJwk)]))),
    logLevel: 'silent',
    extra,
  };
}

/** Publishes an event straight to the stream, as another service's relay would, signed with the test key. */
export async function publishEvent<T extends EventType>(natsUrl: string, prefix: string, input: NewEvent<T>): Promise<Envelope<T>> {
  const envelope = EventSigner.fromKey(input.source, testEventKey().privateJwk).sign(buildEnvelope(input));
  const nc = await connect({ servers: natsUrl });
  try {
    await nc.jetstream().publish(natsSubject(prefix, envelope.type), JSON.stringify(envelope), { msgID: envelope.id });
  } finally {
    await nc.close();
  }
  return envelope;
}

/**
 * Calls a subgraph directly as the gateway would, with an actor token for that subgraph (`service`,
 * its audience) signed with the isolated tests' gateway key (`testActorSigner`).
 */
export async function callSubgraph(url: string, service: string, actor: Actor, query: string, variables: Record<string, unknown> = {}) {
  const token = testActorSigner().sign(actor, { requestId: randomUUID(), locale: 'RU', ip: '127.0.0.1', userAgent: 'test' }, service);
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', [ACTOR_HEADER]: token },
    body: JSON.stringify({ query, variables }),
  });
  return (await res.json()) as { data?: any; errors?: Array<{ message: string; extensions?: Record<string, any> }> };
}

/**
 * Publishes a hand-off straight to the hand-off stream, as the sender's relay would; returns the
 * reference its event carries.
 */
export async function publishHandoff<To extends PdHolder>(natsUrl: string, prefix: string, to: To, id: string, value: unknown, recipientPublicJwk: string) {
  const handoff = await sealHandoff(to, id, value, recipientPublicJwk);
  const nc = await connect({ servers: natsUrl });
  try {
    await nc.jetstream().publish(handoffSubject(prefix, to, id), JSON.stringify(handoffMessage(handoff)));
  } finally {
    await nc.close();
  }
  return handoff.ref;
}

/**
 * A field value as the platform wrote it before format v2 (`v1.<keyId>.<iv>.<tag>.<body>`, bound to
 * nothing), with the first key of `spec`: what the re-encryption job finds in an older database.
 */
export function legacyCiphertext(spec: string, plain: string): string {
  const [id, key] = spec.split(',')[0]!.split(':') as [string, string];
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', Buffer.from(key, 'base64'), iv);
  const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
  return ['v1', id, iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), body.toString('base64url')].join('.');
}
