/**
 * The environment of each process of the platform, as `npm start` and the fault suite run them: the
 * development secrets (made once by `fillSecrets`), each service's own NATS user and event signing
 * key, everyone's public keys. Secrets of one process only never reach another.
 */
import { randomBytes } from 'node:crypto';
import { generateProviderKey } from '@pdp/dev-oidc/constants';
import { ActorTokenSigner, generateEventKeyPair, generateSealKeyPair, randomKeySpec, SERVICES } from '@pdp/shared';
import { NATS_USERS, type NatsUser } from './dev-nats';

export const SERVICE_NAMES = ['subjects', 'appeals', 'consents', 'audit'] as const;
export type PlatformService = (typeof SERVICE_NAMES)[number];

/** Secrets of one process only: kept in the file, never in every process's environment. */
export const ownSecret = (name: string) =>
  name.startsWith('EVENT_SIGNING_KEY_') ||
  name.startsWith('NATS_PASSWORD_') ||
  name.startsWith('DEV_OIDC_') ||
  name === 'AUDIT_CHECKPOINT_KEYS' ||
  name === 'ACTOR_SIGNING_KEY';

/** Adds every secret missing from `kept` (a secret added by a later version too); returns all of them. */
export async function fillSecrets(kept: Record<string, string> = {}): Promise<Record<string, string>> {
  const random = () => randomBytes(32).toString('base64url');
  const secrets = { ...kept };
  const fill = (name: string, make: () => string) => (secrets[name] ??= make());
  // The gateway's actor-token key: only the gateway signs; the services get its public half.
  fill('ACTOR_SIGNING_KEY', () => generateEventKeyPair().privateJwk);
  // The development OpenID provider's own (npm start runs it; a real provider keeps its own keys).
  fill('DEV_OIDC_SIGNING_KEY', () => JSON.stringify(generateProviderKey()));
  fill('DEV_OIDC_COOKIE_KEY', random);
  fill('DEV_OIDC_CLIENT_KEY', random);
  fill('PD_ENCRYPTION_KEYS', () => randomKeySpec('dev1'));
  fill('BLIND_INDEX_KEY', random);
  for (const service of ['SUBJECTS', 'CONSENTS', 'APPEALS']) {
    if (!secrets[`${service}_SEAL_PRIVATE_KEY`]) {
      const pair = await generateSealKeyPair();
      secrets[`${service}_SEAL_PUBLIC_KEY`] = pair.publicJwk;
      secrets[`${service}_SEAL_PRIVATE_KEY`] = pair.privateJwk;
    }
  }
  // Each service's Ed25519 event signing key (the gateway's too, for the events it will produce).
  for (const service of SERVICES) fill(`EVENT_SIGNING_KEY_${service.toUpperCase()}`, () => generateEventKeyPair().privateJwk);
  for (const user of NATS_USERS) fill(`NATS_PASSWORD_${user.toUpperCase()}`, random);
  return secrets;
}

/** Every service's public key, for `EVENT_VERIFY_KEYS`. */
export function eventVerifyKeys(secrets: Record<string, string>): string {
  const publicJwk = (privateJwk: string) => {
    const { kty, crv, x } = JSON.parse(privateJwk) as Record<string, string>;
    return { kty, crv, x };
  };
  return JSON.stringify(Object.fromEntries(SERVICES.map((s) => [s, publicJwk(secrets[`EVENT_SIGNING_KEY_${s.toUpperCase()}`]!)])));
}

/**
 * The environment of one process: the shared secrets, and for a service or the gateway its own NATS
 * URL and signing key. `natsUrlFor` gives a user's NATS URL (with its credentials).
 */
export function processEnv(
  who: PlatformService | 'gateway',
  secrets: Record<string, string>,
  natsUrlFor: (user: NatsUser) => string,
  settings: Record<string, string>,
): Record<string, string> {
  const shared = Object.fromEntries(Object.entries(secrets).filter(([name]) => !ownSecret(name)));
  return {
    ...shared,
    ...(who === 'gateway'
      ? { ACTOR_SIGNING_KEY: secrets.ACTOR_SIGNING_KEY! }
      : { ACTOR_VERIFY_KEYS: ActorTokenSigner.fromKey(secrets.ACTOR_SIGNING_KEY!).publicJwk }),
    NATS_URL: natsUrlFor(who),
    EVENT_SIGNING_KEY: secrets[`EVENT_SIGNING_KEY_${who.toUpperCase()}`]!,
    EVENT_VERIFY_KEYS: eventVerifyKeys(secrets),
    ...settings,
  };
}
