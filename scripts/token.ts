/**
 * `npm run token -- ACCOUNT [--url GATEWAY]`: an access token for ACCOUNT from the platform's
 * development OpenID provider, through the authorization code flow with PKCE (the development
 * provider signs in any account name without a password; a real provider never does).
 * `npm run token -- --client ID --secret SECRET [--url GATEWAY]`: a partner system's token through
 * the client credentials grant. The provider is the one the gateway trusts (its `/auth/config`), or
 * `--issuer URL`. Prints the token alone on stdout, so `TOKEN=$(npm run -s token -- dpo)` works.
 */
import { parseArgs } from 'node:util';
import { clientCredentialsToken, signInWithCode } from '@pdp/dev-oidc/client';

const USAGE =
  'usage: npm run token -- ACCOUNT [--url GATEWAY]\n       npm run token -- --client ID --secret SECRET [--url GATEWAY]\n       (--issuer URL instead of --url to name the provider itself)';

function fail(message: string): never {
  console.error(message);
  process.exit(2);
}

async function issuerOf(gateway: string): Promise<string> {
  const base = gateway.replace(/\/graphql\/?$/, '').replace(/\/$/, '');
  let res: Response;
  try {
    res = await fetch(`${base}/auth/config`, { signal: AbortSignal.timeout(5000) });
  } catch {
    return fail(`no gateway answers at ${base} (is npm start running? or give --url)`);
  }
  if (!res.ok) return fail(`the gateway at ${base} did not say which provider it trusts (${res.status})`);
  return ((await res.json()) as { issuer: string }).issuer;
}

/** The OAuth error code the provider answered with (invalid_client, invalid_grant…), in a body or a challenge. */
function oauthError(err: unknown): string | null {
  const e = err as { error?: string; cause?: unknown };
  if (typeof e.error === 'string') return e.error;
  const challenge = Array.isArray(e.cause) ? (e.cause[0] as { parameters?: { error?: string } } | undefined) : undefined;
  return challenge?.parameters?.error ?? null;
}

async function main(): Promise<void> {
  let parsed: ReturnType<
    typeof parseArgs<{
      options: { url: { type: 'string' }; issuer: { type: 'string' }; client: { type: 'string' }; secret: { type: 'string' } };
      allowPositionals: true;
    }>
  >;
  try {
    parsed = parseArgs({
      options: { url: { type: 'string' }, issuer: { type: 'string' }, client: { type: 'string' }, secret: { type: 'string' } },
      allowPositionals: true,
    });
  } catch (err) {
    return fail(`${(err as Error).message}\n${USAGE}`);
  }
  const { values, positionals } = parsed;
  const issuer = values.issuer ?? (await issuerOf(values.url ?? `http://127.0.0.1:${process.env.PORT ?? 4000}`));
  try {
    if (values.client !== undefined || values.secret !== undefined) {
      if (!values.client || !values.secret || positionals.length > 0) fail(USAGE);
      console.log((await clientCredentialsToken(issuer, values.client, values.secret)).accessToken);
      return;
    }
    if (positionals.length !== 1) fail(USAGE);
    console.log((await signInWithCode(issuer, positionals[0]!)).accessToken);
  } catch (err) {
    fail(`no token: ${oauthError(err) ?? (err as Error).message}`);
  }
}

await main();
