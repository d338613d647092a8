import { randomBytes } from 'node:crypto';
import { generateProviderKey, startDevProvider } from '@pdp/dev-oidc';
import type { TestProject } from 'vitest/node';
import type { ProviderInfo } from './identity';
import { dropRun } from './system';

/** The audience the run's provider puts in its access tokens (the gateways' OIDC_AUDIENCE). */
const AUDIENCE = 'pdp-api';

/**
 * One prefix per test run: every test file makes its own databases and stream under it, and the
 * teardown drops them all, so runs and files never share state. And one development OpenID provider
 * for the run: every platform a test starts trusts it, and every token a test uses comes from it.
 */
export default async function setup(project: TestProject) {
  const serverUrl = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const natsUrl = process.env.TEST_NATS_URL ?? 'nats://127.0.0.1:4222';
  const runPrefix = `t${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
  const clientKey = randomBytes(32).toString('base64url');
  const signingKey = generateProviderKey();
  const provider = await startDevProvider({
    port: 0,
    audience: AUDIENCE,
    signingKey,
    cookieKeys: [randomBytes(32).toString('base64url')],
    clientKey,
    partnerClients: PARTNER_CLIENTS,
  });
  project.provide('serverUrl', serverUrl);
  project.provide('natsUrl', natsUrl);
  project.provide('runPrefix', runPrefix);
  project.provide('provider', { issuer: provider.issuer, audience: AUDIENCE, clientKey, signingKey } satisfies ProviderInfo);
  return async () => {
    await provider.stop();
    await dropRun(serverUrl, natsUrl, runPrefix);
  };
}

/** Partner systems the run's provider knows (client credentials grant). */
export const PARTNER_CLIENTS = Array.from({ length: 20 }, (_, i) => `partner-client-${i + 1}`);
