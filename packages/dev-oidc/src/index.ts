/**
 * The development OpenID provider: `oidc-provider` (a certified OpenID Connect implementation), set
 * up as the platform needs it on one machine and in the tests. Never in production: it signs in any
 * account name without a password, and it keeps its sessions in memory.
 *
 * - People: the authorization code flow with PKCE (public clients `pdp-cli` and `pdp-console`; the
 *   login page below asks for an account name only).
 * - Partner creditors' systems: the client credentials grant; each partner client's secret is an
 *   HMAC of its id with the provider's client key (`devClientSecret`), so `npm start` and the tests
 *   can hand one out without a registration step.
 * - Access tokens are JWTs (RFC 9068 shape) for one audience, the gateway's `OIDC_AUDIENCE`, signed
 *   with the provider's ES256 key from its JWKS: what a real provider (Keycloak, AD FS) issues.
 */
import type { JsonWebKey } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider, { errors, type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import { API_RESOURCE, API_SCOPE, CLI_CLIENT_ID, CLI_REDIRECT_URI, CONSOLE_CLIENT_ID, devClientSecret, generateProviderKey } from './constants';
import { loggedOutPage, loginPage, logoutPage, readForm, validAccountName } from './login';

export * from './constants';

export interface DevProviderOptions {
  port: number;
  host?: string;
  /** The audience (`aud`) of the access tokens: the gateway's OIDC_AUDIENCE. */
  audience: string;
  /** The provider's ES256 private JWK; made fresh when omitted (tokens then die with the process). */
  signingKey?: JsonWebKey;
  /** Keys of the provider's signed cookies (at least one). */
  cookieKeys: string[];
  /** HMAC key from which each partner client's secret is derived (`devClientSecret`). */
  clientKey: string;
  /** Partner clients (client credentials grant), by id. */
  partnerClients: readonly string[];
  /** Where the console may be redirected after sign-in and sign-out (its origin's /console/ pages). */
  consoleRedirectUris?: readonly string[];
  accessTokenTtlSeconds?: number;
}

export interface RunningDevProvider {
  issuer: string;
  port: number;
  stop(): Promise<void>;
}

const CLIENT_ID = /^[a-z0-9][a-z0-9._-]{0,63}$/;

export async function startDevProvider(opts: DevProviderOptions): Promise<RunningDevProvider> {
  if (process.env.NODE_ENV === 'production') {
    throw new Error('the development OpenID provider signs in anyone: it does not run with NODE_ENV=production; set OIDC_ISSUER to your provider');
  }
  for (const id of opts.partnerClients) if (!CLIENT_ID.test(id)) throw new Error(`partner client id "${id}" must match ${CLIENT_ID}`);
  const host = opts.host ?? '127.0.0.1';
  // The port must be known before the provider is made (it is the issuer): listen first.
  const server: Server = createServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(opts.port, host, () => resolve()));
  const port = (server.address() as AddressInfo).port;
  const issuer = `http://${host}:${port}`;
  const provider = new Provider(issuer, configuration(opts));
  // Only the loopback interface is served here; behind no proxy.
  provider.proxy = false;
  // A provider fault is logged by name only (its messages carry no request values, but stay short).
  provider.on('server_error', (_ctx: unknown, err: Error) => console.error(`dev-oidc: ${err.name}: ${err.message}`));
  if (process.env.DEBUG_OIDC) provider.on('grant.error', (_ctx: unknown, err: any) => console.error('grant.error', err.error_detail ?? err));
  const callback = provider.callback();
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const interaction = /^\/interaction\/([\w-]{1,64})$/.exec(new URL(req.url ?? '/', issuer).pathname);
    if (!interaction) return void callback(req, res);
    handleInteraction(provider, req, res).catch(() => {
      if (!res.headersSent) res.writeHead(400, { 'content-type': 'text/plain; charset=utf-8' });
      res.end('sign-in session expired or invalid: start again from the application');
    });
  });
  return {
    issuer,
    port,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function configuration(opts: DevProviderOptions): Configuration {
  const signingKey = { ...(opts.signingKey ?? generateProviderKey()), use: 'sig', alg: 'ES256' };
  const partnerClients = opts.partnerClients.map((id) => ({
    client_id: id,
    client_secret: devClientSecret(opts.clientKey, id),
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
    token_endpoint_auth_method: 'client_secret_basic' as const,
  }));
  return {
    clients: [
      {
        client_id: CLI_CLIENT_ID,
        application_type: 'native',
        token_endpoint_auth_method: 'none',
        grant_types: ['authorization_code'],
        response_types: ['code'],
        redirect_uris: [CLI_REDIRECT_URI],
      },
      {
        client_id: CONSOLE_CLIENT_ID,
        // The console in development is on the loopback interface, on whatever port the gateway got.
        application_type: 'native',
        token_endpoint_auth_method: 'none',
        grant_types: ['authorization_code'],
        response_types: ['code'],
        redirect_uris: [...(opts.consoleRedirectUris ?? ['http://127.0.0.1/console/callback'])],
        post_logout_redirect_uris: [...(opts.consoleRedirectUris ?? ['http://127.0.0.1/console/callback']).map((u) => new URL('/console/', u).href)],
      },
      ...partnerClients,
    ],
    jwks: { keys: [signingKey] },
    // The provider's one key is ES256: ID tokens are signed with it too.
    clientDefaults: { id_token_signed_response_alg: 'ES256' },
    cookies: { keys: opts.cookieKeys },
    // Any account name signs in (development only); its claims are its name.
    findAccount: async (_ctx, id) => ({
      accountId: id,
      claims: async () => ({ sub: id, name: id, preferred_username: id }),
    }),
    claims: { openid: ['sub'], profile: ['name', 'preferred_username'] },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    // The console calls the token endpoint from its page (a browser's CORS request): allowed for the
    // console's own origins only — those of its redirect URIs, where a loopback one (RFC 8252) stands
    // for any port of that host, as it does for the redirect itself.
    clientBasedCORS: (_ctx, origin, client) => {
      if (client.clientId !== CONSOLE_CLIENT_ID || origin === 'null') return false;
      const asked = URL.parse(origin);
      return (client.redirectUris ?? []).some((uri) => {
        const allowed = URL.parse(uri);
        if (!allowed || !asked) return false;
        if (allowed.origin === asked.origin) return true;
        const loopback = allowed.hostname === '127.0.0.1' || allowed.hostname === 'localhost' || allowed.hostname === '[::1]';
        return loopback && !allowed.port && allowed.protocol === asked.protocol && allowed.hostname === asked.hostname;
      });
    },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      // Sign-out at the provider ends the session there too (the console's "sign out").
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: async (ctx, form) => {
          ctx.body = logoutPage(ctx.oidc.params?.ui_locales, form);
        },
        postLogoutSuccessSource: async (ctx) => {
          ctx.body = loggedOutPage(ctx.oidc.params?.ui_locales);
        },
      },
      introspection: { enabled: false },
      revocation: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: async () => API_RESOURCE,
        useGrantedResource: async () => true,
        getResourceServerInfo: async (_ctx, resource) => {
          if (resource !== API_RESOURCE) throw new errors.InvalidTarget();
          return {
            scope: API_SCOPE,
            audience: opts.audience,
            accessTokenTTL: opts.accessTokenTtlSeconds ?? 3600,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: 'ES256' } },
          };
        },
      },
    },
    // First-party clients: no consent screen; the grant covers the API's scope.
    loadExistingGrant: async (ctx: KoaContextWithOIDC) => {
      const client = ctx.oidc.client!;
      const existing = ctx.oidc.result?.consent?.grantId ?? ctx.oidc.session?.grantIdFor(client.clientId);
      if (existing) return ctx.oidc.provider.Grant.find(existing);
      const grant = new ctx.oidc.provider.Grant({ clientId: client.clientId, accountId: ctx.oidc.session!.accountId! });
      grant.addOIDCScope('openid');
      grant.addResourceScope(API_RESOURCE, API_SCOPE);
      await grant.save();
      return grant;
    },
    ttl: {
      AccessToken: opts.accessTokenTtlSeconds ?? 3600,
      ClientCredentials: opts.accessTokenTtlSeconds ?? 3600,
      AuthorizationCode: 60,
      Interaction: 600,
      Session: 8 * 3600,
      Grant: 8 * 3600,
      IdToken: 3600,
    },
    pkce: { required: () => true },
    // No English stack pages: errors as plain text.
    renderError: async (ctx, out) => {
      ctx.type = 'text/plain; charset=utf-8';
      ctx.body = `${out.error}${out.error_description ? `: ${out.error_description}` : ''}`;
    },
  };
}

/**
 * The login step: an account name, no password. The consent step is answered here without a page:
 * the platform's own clients are first-party (oidc-provider asks a native client for consent every
 * time, since another app could claim its loopback redirect; the development provider trusts them).
 */
async function handleInteraction(provider: Provider, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const details = await provider.interactionDetails(req, res);
  if (details.prompt.name === 'consent') {
    const grant = details.grantId
      ? await provider.Grant.find(details.grantId)
      : new provider.Grant({ clientId: String(details.params.client_id), accountId: details.session!.accountId });
    if (!grant) throw new Error('grant gone');
    grant.addOIDCScope('openid');
    grant.addResourceScope(API_RESOURCE, API_SCOPE);
    await provider.interactionFinished(req, res, { consent: { grantId: await grant.save() } }, { mergeWithLastSubmission: true });
    return;
  }
  // The client's ui_locales (the console sends its page's language), else ?lang, else the browser's.
  const asked = String(details.params.ui_locales ?? new URL(req.url ?? '/', 'http://x').searchParams.get('lang') ?? req.headers['accept-language'] ?? '');
  const lang = /^\s*kk/i.test(asked) ? 'kk' : 'ru';
  if (req.method === 'GET') return void loginPage(res, { uid: details.uid, lang, error: false, hint: details.params.login_hint as string | undefined });
  if (req.method !== 'POST') {
    res.writeHead(405, { allow: 'GET, POST' }).end();
    return;
  }
  const form = await readForm(req);
  const account = form.get('login')?.trim() ?? '';
  if (details.prompt.name !== 'login' || !validAccountName(account)) {
    return void loginPage(res, { uid: details.uid, lang, error: true, hint: undefined });
  }
  await provider.interactionFinished(req, res, { login: { accountId: account } }, { mergeWithLastSubmission: false });
}
