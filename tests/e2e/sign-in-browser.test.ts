import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CLI_CLIENT_ID } from '@pdp/dev-oidc/constants';
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from '../support/browser';
import { graphql } from '../support/client';
import { testEnv } from '../support/env';
import { startSystem } from '../support/fixtures';
import type { System } from '../support/system';

/**
 * The whole authorization code flow with PKCE in a real browser, as a person signs in: the client
 * (here a native app on the loopback interface, as `npm run token` is) sends Chromium to the
 * provider's authorization endpoint; the person types an account name on the provider's page; the
 * provider redirects back with a code; the client exchanges it with its PKCE verifier; the gateway
 * takes the token and the access registry gives the account its roles.
 */
const browser = await launchBrowser();
let system: System;
let callback: Server;
let callbackUrl = '';
let received: URL | null = null;
/** What the callback received last (read through a function: the compiler cannot see the server set it). */
const lastCallback = (): URL | null => received;

beforeAll(async () => {
  if (!browser) return;
  system = await startSystem();
  callback = createServer((req, res) => {
    received = new URL(req.url ?? '/', callbackUrl);
    res.writeHead(200, { 'content-type': 'text/plain' }).end('signed in');
  });
  await new Promise<void>((resolve) => callback.listen(0, '127.0.0.1', () => resolve()));
  callbackUrl = `http://127.0.0.1:${(callback.address() as AddressInfo).port}/callback`;
});
afterAll(async () => {
  await browser?.close();
  callback?.close();
  await system?.destroy();
});

describe.skipIf(!browser)('a person signs in in Chromium: authorization code with PKCE, at the provider', () => {
  it('the provider asks only for an account name, sends the code back, the PKCE exchange gives a token the gateway accepts, and the registry decides its roles', async () => {
    const { provider } = testEnv();
    await system.accounts.grant('aigerim.s', ['OPERATOR']);
    const config = await oidc.discovery(new URL(provider.issuer), CLI_CLIENT_ID, undefined, oidc.None(), { execute: [oidc.allowInsecureRequests] });
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const start = oidc.buildAuthorizationUrl(config, {
      redirect_uri: callbackUrl,
      scope: 'openid pdp',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
    });
    // A public client without PKCE is refused outright.
    const withoutPkce = oidc.buildAuthorizationUrl(config, { redirect_uri: callbackUrl, scope: 'openid pdp', state });
    const context = await browser!.newContext({ locale: 'kk-KZ' });
    const page = await context.newPage();
    await page.goto(withoutPkce.href);
    expect(received?.searchParams.get('error')).toBe('invalid_request');
    expect(received?.searchParams.get('code')).toBeNull();
    received = null;

    await page.goto(start.href);
    await expect(page.locator('input[name="login"]').count()).resolves.toBe(1);
    await expect(page.locator('input[type="password"]').count()).resolves.toBe(0);
    expect(await page.locator('h1').textContent()).toBe('Әзірлеуге арналған кіру');
    await page.locator('input[name="login"]').fill('aigerim.s');
    await Promise.all([page.waitForURL((url) => url.href.startsWith(callbackUrl)), page.locator('button[type="submit"]').click()]);
    expect(lastCallback()?.searchParams.get('state')).toBe(state);
    expect(lastCallback()?.searchParams.get('code')).toBeTruthy();

    const tokens = await oidc.authorizationCodeGrant(config, lastCallback()!, { pkceCodeVerifier: verifier, expectedState: state });
    await system.accounts.untilEnforced('aigerim.s', tokens.access_token, ['OPERATOR'], null);
    const me = await graphql(system.url, '{ me { account roles } appeals(first: 1) { totalCount } }', {}, { token: tokens.access_token });
    expect(me.data).toEqual({ me: { account: 'aigerim.s', roles: ['OPERATOR'] }, appeals: { totalCount: 0 } });

    // The same code a second time is refused by the provider (one use), as is the exchange without the verifier.
    await expect(oidc.authorizationCodeGrant(config, lastCallback()!, { pkceCodeVerifier: verifier, expectedState: state })).rejects.toThrow();
    await context.close();
  });
});
