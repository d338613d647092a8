import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLogger } from '@pdp/shared';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { OidcVerifier, ProviderUnavailable, type TokenRefused } from '../src/oidc';

/**
 * A provider of our own for the verifier's rules: it serves discovery and a JWKS whose keys the
 * test changes, counts what reaches it, and can go down.
 */
class TestProvider {
  requests = { discovery: 0, jwks: 0 };
  keys: Array<{ kid: string; alg: string; privateKey: CryptoKey; jwk: JWK }> = [];
  up = true;
  private server!: Server;
  issuer = '';

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      if (!this.up) return void req.socket.destroy();
      if (req.url === '/.well-known/openid-configuration') {
        this.requests.discovery += 1;
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ issuer: this.issuer, jwks_uri: `${this.issuer}/jwks` }));
      } else if (req.url === '/jwks') {
        this.requests.jwks += 1;
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: this.keys.map((k) => k.jwk) }));
      } else res.writeHead(404).end();
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', () => r()));
    this.issuer = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async addKey(kid: string, alg = 'ES256'): Promise<void> {
    const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
    this.keys.push({ kid, alg, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } });
  }

  async token(kid: string, claims: Record<string, unknown> = {}): Promise<string> {
    const key = this.keys.find((k) => k.kid === kid)!;
    return new SignJWT({ sub: 'dpo', ...claims })
      .setProtectedHeader({ alg: key.alg, kid })
      .setIssuer(this.issuer)
      .setAudience('pdp-api')
      .setIssuedAt()
      .setExpirationTime('10m')
      .sign(key.privateKey);
  }

  stop(): Promise<void> {
    return new Promise((r) => {
      this.server.close(() => r());
      this.server.closeAllConnections();
    });
  }
}

const providers: TestProvider[] = [];
const verifiers: OidcVerifier[] = [];
afterEach(async () => {
  for (const v of verifiers.splice(0)) v.stop();
  for (const p of providers.splice(0)) await p.stop();
});

async function setup(cooldownSeconds = 5) {
  const provider = await new TestProvider().start();
  providers.push(provider);
  await provider.addKey('k1');
  const verifier = new OidcVerifier({
    issuer: provider.issuer,
    audience: 'pdp-api',
    algorithms: ['RS256', 'ES256', 'EdDSA'],
    cooldownSeconds,
    refreshSeconds: 3600,
    clockToleranceSeconds: 5,
    logger: createLogger('test', 'silent'),
  });
  verifiers.push(verifier);
  verifier.start();
  return { provider, verifier };
}

describe("the gateway's OpenID Connect token check", () => {
  it('accepts RS256, ES256 and EdDSA tokens of the provider, from its discovery document and JWKS', async () => {
    const { provider, verifier } = await setup(0);
    await provider.addKey('rsa', 'RS256');
    await provider.addKey('ed', 'EdDSA');
    for (const kid of ['k1', 'rsa', 'ed']) expect((await verifier.verify(await provider.token(kid))).sub).toBe('dpo');
    expect(provider.requests.discovery).toBe(1);
  });

  it('a flood of made-up kids reaches the provider at most once per cooldown', async () => {
    const { provider, verifier } = await setup(5);
    await verifier.verify(await provider.token('k1'));
    const before = provider.requests.jwks;
    await provider.addKey('stranger');
    const flood = await Promise.all(
      Array.from({ length: 200 }, () =>
        provider
          .token('stranger', {})
          .then((t) => t.replace(/^[^.]+/, Buffer.from(JSON.stringify({ alg: 'ES256', kid: `made-up-${Math.random()}` })).toString('base64url'))),
      ),
    );
    const outcomes = await Promise.all(
      flood.map((t) =>
        verifier.verify(t).then(
          () => 'ok',
          (e: unknown) => (e as TokenRefused).problem,
        ),
      ),
    );
    expect(new Set(outcomes)).toEqual(new Set(['UNKNOWN_KEY']));
    expect(provider.requests.jwks - before).toBeLessThanOrEqual(1);
  });

  it('a rotated key is learned on its first use after the cooldown; a removed one stops verifying on refresh', async () => {
    const { provider, verifier } = await setup(0);
    await verifier.verify(await provider.token('k1'));
    await provider.addKey('k2');
    expect((await verifier.verify(await provider.token('k2'))).sub).toBe('dpo');
    const oldToken = await provider.token('k1');
    provider.keys = provider.keys.filter((k) => k.kid !== 'k1');
    await (verifier as unknown as { refresh(): Promise<void> }).refresh();
    await expect(verifier.verify(oldToken)).rejects.toMatchObject({ problem: 'UNKNOWN_KEY' });
  });

  it('the cached keys keep working while the provider is down', async () => {
    const { provider, verifier } = await setup(0);
    const token = await provider.token('k1');
    await verifier.verify(token);
    provider.up = false;
    await (verifier as unknown as { refresh(): Promise<void> }).refresh();
    expect((await verifier.verify(token)).sub).toBe('dpo');
    expect((await verifier.verify(await provider.token('k1', { sub: 'ops' }))).sub).toBe('ops');
  });

  it('before the provider was ever reached, nothing verifies (503, not 401): the keys are unknown', async () => {
    const provider = await new TestProvider().start();
    providers.push(provider);
    await provider.addKey('k1');
    provider.up = false;
    const verifier = new OidcVerifier({
      issuer: provider.issuer,
      audience: 'pdp-api',
      algorithms: ['ES256'],
      cooldownSeconds: 0,
      refreshSeconds: 3600,
      clockToleranceSeconds: 5,
      logger: createLogger('test', 'silent'),
    });
    verifiers.push(verifier);
    await expect(verifier.verify(await provider.token('k1'))).rejects.toBeInstanceOf(ProviderUnavailable);
    provider.up = true;
    expect((await verifier.verify(await provider.token('k1'))).sub).toBe('dpo');
  });

  it('a discovery document naming another issuer is not trusted', async () => {
    const provider = await new TestProvider().start();
    providers.push(provider);
    await provider.addKey('k1');
    const verifier = new OidcVerifier({
      issuer: `${provider.issuer}/`,
      audience: 'pdp-api',
      algorithms: ['ES256'],
      cooldownSeconds: 0,
      refreshSeconds: 3600,
      clockToleranceSeconds: 5,
      logger: createLogger('test', 'silent'),
    });
    verifiers.push(verifier);
    await expect(verifier.verify(await provider.token('k1'))).rejects.toBeInstanceOf(ProviderUnavailable);
  });
});
