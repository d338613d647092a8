/**
 * Accounts for tests and benches, obtained the way people and partner systems obtain them: a token
 * from the development OpenID provider (the authorization code flow with PKCE, or the client
 * credentials grant), and a grant in the platform's access registry made through the gateway by a
 * DPO — never a JWT signed here.
 */
import { clientCredentialsToken, signInWithCode } from '@pdp/dev-oidc/client';
import type { Role } from '@pdp/shared';
import { eventually } from '@pdp/shared/testing';
import { graphql } from './client';

/** The provider every test of a run signs in at (tests/support/global-setup.ts starts it). */
export interface ProviderInfo {
  issuer: string;
  audience: string;
  /** Derives the partner clients' secrets (`devClientSecret`). */
  clientKey: string;
  /** The provider's private signing key: tests of forged tokens sign with it what the provider never would. */
  signingKey?: import('node:crypto').JsonWebKey;
}

/** The account every platform of the tests starts with (`BOOTSTRAP_DPO`): it grants the others. */
export const BOOTSTRAP_DPO = 'dpo-bootstrap';

/** Tokens are the provider's and carry no roles, so one token serves an account on every platform of the run. */
const tokens = new Map<string, Promise<{ token: string; until: number }>>();

/** An access token for `account`, signed in at the provider with the authorization code flow and PKCE. */
export async function signIn(issuer: string, account: string): Promise<string> {
  const key = `${issuer}\n${account}`;
  const cached = await tokens.get(key)?.catch(() => null);
  if (cached && cached.until > Date.now()) return cached.token;
  const fresh = signInWithCode(issuer, account).then((t) => ({ token: t.accessToken, until: Date.now() + (t.expiresIn - 120) * 1000 }));
  tokens.set(key, fresh);
  return (await fresh).token;
}

/** A partner system's token: the client credentials grant. */
export async function clientToken(issuer: string, clientId: string, secret: string): Promise<string> {
  return (await clientCredentialsToken(issuer, clientId, secret)).accessToken;
}

const GRANT = `mutation($input: AccessGrantInput!) { grantAccess(input: $input) { id account roles } }`;
const ME = `{ me { account roles creditor { id } } }`;
const REGISTER = `mutation($input: CreditorInput!) { registerCreditor(input: $input) { id } }`;

export interface AccountOptions {
  /** The account name (a token's `sub`); `<role>-1` by default. */
  sub?: string;
  /** A partner's creditor; a test creditor of the platform's own when left out. */
  creditorId?: string;
}

/**
 * Grants and signs in accounts on one platform (its gateway at `url`), as its DPO would: the
 * bootstrap DPO grants each account its roles through `grantAccess`, then the account signs in, and
 * the helper waits until the gateway enforces the grant (`me` answers with those roles).
 */
/** What a gateway gives an account now: its roles and creditor, or null for nothing. */
export type Enforced = (account: string, token: string) => Promise<{ roles: Role[]; creditorId: string | null } | null>;

/** Asks the gateway over HTTP (`me`): for a platform whose gateway runs in another process. */
export function enforcedByMe(url: () => string): Enforced {
  return async (_account, token) => {
    const me = (await graphql(url(), ME, {}, { token })).data?.me;
    return me ? { roles: me.roles, creditorId: me.creditor?.id ?? null } : null;
  };
}

export class Accounts {
  private readonly granted = new Map<string, string>();
  private testCreditor: Promise<string> | null = null;

  constructor(
    private readonly url: () => string,
    private readonly provider: ProviderInfo,
    /** How to learn what the gateway enforces; by default `me` over HTTP (a request of the account's own). */
    private readonly enforced: Enforced = enforcedByMe(url),
  ) {}

  /** A token for an account holding exactly `roles` on this platform (granted now if needed). */
  async tokenFor(roles: Role[], opts: AccountOptions = {}): Promise<string> {
    const account = opts.sub ?? `${roles[0]!.toLowerCase()}-1`;
    const creditorId = roles.includes('PARTNER') ? (opts.creditorId ?? (await this.creditor())) : null;
    const want = [...roles].sort().join(',') + (creditorId ? `@${creditorId}` : '');
    const token = await signIn(this.provider.issuer, account);
    if (account !== BOOTSTRAP_DPO && this.granted.get(account) !== want) {
      await this.grant(account, roles, creditorId);
      this.granted.set(account, want);
    }
    await this.untilEnforced(account, token, roles, creditorId);
    return token;
  }

  /** The bootstrap DPO's token. */
  dpo(): Promise<string> {
    return signIn(this.provider.issuer, BOOTSTRAP_DPO);
  }

  /** Grants `roles` to `account` as the bootstrap DPO (a change of roles replaces the grant). */
  async grant(account: string, roles: Role[], creditorId: string | null = null): Promise<string> {
    const dpo = await this.dpo();
    await this.untilEnforced(BOOTSTRAP_DPO, dpo, ['DPO'], null);
    const res = await graphql(
      this.url(),
      GRANT,
      { input: { account, displayName: `Test ${account}`, roles, creditorId, reason: 'test fixture' } },
      { token: dpo },
    );
    if (res.errors) throw new Error(`grantAccess(${account}) failed: ${JSON.stringify(res.errors.map((e) => e.extensions))}`);
    return res.data.grantAccess.id as string;
  }

  /** Waits until the gateway gives the token's account exactly these roles (its view of the registry is current). */
  async untilEnforced(account: string, token: string, roles: Role[], creditorId: string | null): Promise<void> {
    const want = [...roles].sort().join(',');
    await eventually(
      async () => {
        const now = await this.enforced(account, token);
        return now && [...now.roles].sort().join(',') === want && now.creditorId === creditorId;
      },
      15_000,
      `the gateway to enforce the grant (${want})`,
    );
  }

  /** A creditor of the platform's own, for PARTNER accounts of tests that need no particular one. */
  private creditor(): Promise<string> {
    this.testCreditor ??= (async () => {
      const dpo = await this.dpo();
      await this.untilEnforced(BOOTSTRAP_DPO, dpo, ['DPO'], null);
      const res = await graphql(this.url(), REGISTER, { input: { bin: '050540004455', name: 'ТОО «Тест Кредитор»', country: 'KZ' } }, { token: dpo });
      if (res.errors) throw new Error(`registerCreditor failed: ${JSON.stringify(res.errors.map((e) => e.extensions))}`);
      return res.data.registerCreditor.id as string;
    })();
    return this.testCreditor;
  }
}
