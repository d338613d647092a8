/**
 * Getting an access token from an OpenID provider the standard ways, for `npm run token`, `npm start`
 * and the tests: the authorization code flow with PKCE (people) and the client credentials grant
 * (partner systems), with `openid-client` doing the protocol (discovery, PKCE, state, the code
 * exchange and its checks). What a browser would do at the development provider's login page — type
 * an account name and send the form — is done here over HTTP: it works with the development
 * provider only, which asks for nothing else.
 */
import * as oidc from 'openid-client';
import { CLI_CLIENT_ID, CLI_REDIRECT_URI } from './constants';

export interface TokenSet {
  accessToken: string;
  /** Seconds the token lives, as the provider said. */
  expiresIn: number;
}

const configs = new Map<string, Promise<oidc.Configuration>>();

/** The provider's discovery document, fetched once per issuer and client. */
function discover(issuer: string, clientId: string, auth: oidc.ClientAuth): Promise<oidc.Configuration> {
  const key = `${issuer}\n${clientId}`;
  let config = configs.get(key);
  if (!config) {
    config = oidc
      .discovery(new URL(issuer), clientId, undefined, auth, {
        // The development provider is plain http on the loopback interface.
        execute: new URL(issuer).protocol === 'http:' ? [oidc.allowInsecureRequests] : [],
        timeout: 10,
      })
      .catch((err: unknown) => {
        configs.delete(key);
        throw err;
      });
    configs.set(key, config);
  }
  return config;
}

/**
 * Signs ACCOUNT in at the development provider with the authorization code flow and PKCE, as the
 * `pdp-cli` client (a native app redirecting to the loopback interface), and returns its access token.
 */
export async function signInWithCode(issuer: string, account: string, opts: { clientId?: string; redirectUri?: string } = {}): Promise<TokenSet> {
  const clientId = opts.clientId ?? CLI_CLIENT_ID;
  const redirectUri = opts.redirectUri ?? CLI_REDIRECT_URI;
  const config = await discover(issuer, clientId, oidc.None());
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const start = oidc.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    scope: 'openid pdp',
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    login_hint: account,
  });
  const callback = await walkToCallback(start, redirectUri, account);
  const tokens = await oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: state });
  return { accessToken: tokens.access_token, expiresIn: tokens.expires_in ?? 0 };
}

/** A partner system's token: the client credentials grant with the client's id and secret. */
export async function clientCredentialsToken(issuer: string, clientId: string, secret: string): Promise<TokenSet> {
  const config = await discover(issuer, clientId, oidc.ClientSecretBasic(secret));
  const tokens = await oidc.clientCredentialsGrant(config, { scope: 'pdp' });
  return { accessToken: tokens.access_token, expiresIn: tokens.expires_in ?? 0 };
}

/**
 * Follows the provider's redirects as a browser would (keeping its cookies), answers the login page
 * with the account name, and stops at the redirect to the client's callback, whose URL holds the code.
 */
async function walkToCallback(start: URL, redirectUri: string, account: string): Promise<URL> {
  const cookies = new Map<string, string>();
  const callbackBase = new URL(redirectUri);
  let url = start;
  let form: URLSearchParams | null = null;
  for (let step = 0; step < 10; step += 1) {
    const res = await fetch(url, {
      method: form ? 'POST' : 'GET',
      redirect: 'manual',
      headers: {
        cookie: [...cookies].map(([k, v]) => `${k}=${v}`).join('; '),
        ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      },
      body: form ?? undefined,
    });
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair!.indexOf('=');
      if (eq > 0) cookies.set(pair!.slice(0, eq).trim(), pair!.slice(eq + 1).trim());
    }
    const location = res.headers.get('location');
    if (res.status >= 300 && res.status < 400 && location) {
      await res.arrayBuffer();
      const next = new URL(location, url);
      // The callback (a loopback redirect may carry any port, RFC 8252 7.3): the code is in its URL.
      if (next.hostname === callbackBase.hostname && next.pathname === callbackBase.pathname) {
        const error = next.searchParams.get('error');
        if (error) throw new Error(`the provider refused the sign-in: ${error}`);
        return next;
      }
      url = next;
      form = null;
      continue;
    }
    const body = await res.text();
    if (res.status === 200 && /name="login"/.test(body) && !form) {
      form = new URLSearchParams({ login: account });
      continue;
    }
    // The development provider's errors are short plain text (an OAuth error code and its description).
    const said = /^text\/plain/.test(res.headers.get('content-type') ?? '') ? `: ${body.slice(0, 200)}` : '';
    throw new Error(
      `sign-in stopped at ${url.pathname} with status ${res.status}${said || (res.status === 400 ? ' (an account name the provider does not accept?)' : '')}`,
    );
  }
  throw new Error('sign-in did not reach the client within 10 steps');
}
