import { randomBytes } from 'node:crypto';
import { generateProviderKey, startDevProvider } from '@pdp/dev-oidc';
import type { TestProject } from 'vitest/node';
import { chooseBrowser, registryChromium } from './chromium';
import type { ProviderInfo } from './identity';
import { testServers } from './servers';
import { dropRun } from './system';

/** The audience the run's provider puts in its access tokens (the gateways' OIDC_AUDIENCE). */
const AUDIENCE = 'pdp-api';

/**
 * The run's servers (the machine's, or throwaway ones when none answers: servers.ts) and one prefix
 * per test run: every test file makes its own databases and stream under it, and the teardown drops
 * them all, so runs and files never share state. And one development OpenID provider for the run:
 * every platform a test starts trusts it, and every token a test uses comes from it.
 */
export default async function setup(project: TestProject) {
  const servers = await testServers();
  const { serverUrl, natsUrl } = servers;
  if (servers.started.length > 0)
    console.log(`npm test: nothing answered at the default addresses, so the suite runs on ${servers.started.join(' and ')}, removed at the end`);
  // Child processes the tests start (the platform's own scripts) find the same servers.
  process.env.TEST_DATABASE_URL = serverUrl;
  process.env.TEST_NATS_URL = natsUrl;
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
  await unpackBrowser();
  return async () => {
    try {
      await provider.stop();
      await dropRun(serverUrl, natsUrl, runPrefix);
    } finally {
      await servers.stop();
    }
  };
}

/** Partner systems the run's provider knows (client credentials grant). */
export const PARTNER_CLIENTS = Array.from({ length: 20 }, (_, i) => `partner-client-${i + 1}`);

/**
 * The registry's Chromium is unpacked here, once, before any worker starts (~3 s the first time in a
 * checkout), so that no two test files unpack it at once and no test's timeout pays for it. A
 * failure is left to the browser tests, which report it in their one line.
 */
async function unpackBrowser(): Promise<void> {
  try {
    if (chooseBrowser().kind === 'registry') await registryChromium();
  } catch {
    // reported by launchBrowser() in each browser test file
  }
}
