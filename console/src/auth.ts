import * as oauth from 'oauth4webapi';
import { lang } from './i18n';

/**
 * Sign-in at the OpenID provider the gateway trusts (`/auth/config`): the authorization code flow
 * with PKCE, as a public client (`pdp-console`), through oauth4webapi (a certified, dependency-free
 * OAuth 2 / OIDC client for browsers).
 *
 * The tokens live in this module's memory only: never localStorage, sessionStorage or a cookie a
 * script can read, so a reload signs in again (silently while the provider's session lasts). What
 * must survive the round trip to the provider — the PKCE verifier, the state and where to come back
 * to (a console path: no personal data) — is kept in sessionStorage and removed at the callback.
 */
export const CLIENT_ID = 'pdp-console';
const PENDING = 'pdp.console.signin';
const client: oauth.Client = { client_id: CLIENT_ID };
// The development provider runs on the loopback interface over plain HTTP; a real one is HTTPS.
const insecure = { [oauth.allowInsecureRequests]: location.protocol === 'http:' };

export interface Session {
  accessToken: string;
  idToken: string | undefined;
  expiresAt: number;
}

let server: oauth.AuthorizationServer | null = null;
let session: Session | null = null;

async function authorizationServer(): Promise<oauth.AuthorizationServer> {
  if (server) return server;
  const config = (await (await fetch('/auth/config', { cache: 'no-store' })).json()) as { issuer: string };
  const issuer = new URL(config.issuer);
  server = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, insecure));
  return server;
}

const redirectUri = () => `${location.origin}/console/callback`;

export const currentSession = (): Session | null => (session && session.expiresAt > Date.now() ? session : null);

/** Sends the browser to the provider; it comes back to /console/callback, then to `next`. */
export async function signIn(next: string): Promise<void> {
  const as = await authorizationServer();
  const verifier = oauth.generateRandomCodeVerifier();
  const state = oauth.generateRandomState();
  sessionStorage.setItem(PENDING, JSON.stringify({ verifier, state, next }));
  const url = new URL(as.authorization_endpoint!);
  url.search = new URLSearchParams({
    client_id: CLIENT_ID,
    redirect_uri: redirectUri(),
    response_type: 'code',
    scope: 'openid pdp',
    code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    ui_locales: lang(),
  }).toString();
  location.assign(url.href);
}

/** At /console/callback: exchanges the code (with the verifier) and returns where to go next. */
export async function completeSignIn(): Promise<string> {
  const pending = sessionStorage.getItem(PENDING);
  sessionStorage.removeItem(PENDING);
  if (!pending) throw new Error('no sign-in in progress');
  const { verifier, state, next } = JSON.parse(pending) as { verifier: string; state: string; next: string };
  const as = await authorizationServer();
  const params = oauth.validateAuthResponse(as, client, new URL(location.href), state);
  const response = await oauth.authorizationCodeGrantRequest(as, client, oauth.None(), params, redirectUri(), verifier, insecure);
  const result = await oauth.processAuthorizationCodeResponse(as, client, response);
  session = {
    accessToken: result.access_token,
    idToken: result.id_token,
    expiresAt: Date.now() + Math.max(30, (result.expires_in ?? 300) - 30) * 1000,
  };
  return next.startsWith('/console/') && !next.startsWith('/console/callback') ? next : '/console/';
}

/** Ends the session here and at the provider, which sends the browser back to the console. */
export async function signOut(): Promise<void> {
  const idToken = session?.idToken;
  session = null;
  const as = await authorizationServer();
  if (!as.end_session_endpoint) {
    location.assign('/console/');
    return;
  }
  const url = new URL(as.end_session_endpoint);
  url.search = new URLSearchParams({
    client_id: CLIENT_ID,
    post_logout_redirect_uri: `${location.origin}/console/`,
    ui_locales: lang(),
    ...(idToken ? { id_token_hint: idToken } : {}),
  }).toString();
  location.assign(url.href);
}
