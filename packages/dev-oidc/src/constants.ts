import { createHmac, generateKeyPairSync, type JsonWebKey } from 'node:crypto';

/** What the development provider and its clients share (no oidc-provider import: clients and scripts load this). */
/** The resource indicator the provider issues access tokens for (RFC 8707 wants an absolute URI). */
export const API_RESOURCE = 'urn:pdp:api';
/** The one scope of the platform's API: what an account may do is the access registry's business. */
export const API_SCOPE = 'pdp';
/** The command-line client (`npm run token`): a native app on the loopback interface (RFC 8252). */
export const CLI_CLIENT_ID = 'pdp-cli';
export const CLI_REDIRECT_URI = 'http://127.0.0.1/callback';
/** The staff console (served by the gateway under /console/). */
export const CONSOLE_CLIENT_ID = 'pdp-console';

/** A partner client's secret: derived, never stored. */
export function devClientSecret(clientKey: string, clientId: string): string {
  return createHmac('sha256', clientKey).update(`pdp.dev-oidc.client.v1\n${clientId}`).digest('base64url');
}

/** A new ES256 private JWK for the provider's JWKS. */
export function generateProviderKey(): JsonWebKey {
  return generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });
}
