import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { Authenticator } from '../src/auth';

const SECRET = 'a-test-secret-of-at-least-32-characters!!';

async function token(claims: Record<string, unknown>, expiresAt: number, secret = SECRET): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setSubject('dpo-1').setIssuedAt().setExpirationTime(expiresAt).sign(new TextEncoder().encode(secret));
}

const now = () => Math.floor(Date.now() / 1000);

describe('the gateway remembers verified client tokens, and nothing else', () => {
  it('answers a remembered token as its first verification did, and refuses it once it expires', async () => {
    const auth = new Authenticator({ secret: SECRET, maxLifetimeSeconds: 3600 });
    const t = await token({ roles: ['DPO'] }, now() + 3);
    const first = await auth.authenticate(`Bearer ${t}`, 'RU');
    expect(first).toEqual({ id: 'dpo-1', roles: ['DPO'], creditorId: null });
    expect(await auth.authenticate(`Bearer ${t}`, 'RU')).toBe(first);
    // The remembered actor cannot be changed by one request for the next.
    expect(Object.isFrozen(first) && Object.isFrozen(first.roles)).toBe(true);
    await new Promise((r) => setTimeout(r, 3500));
    await expect(auth.authenticate(`Bearer ${t}`, 'RU')).rejects.toMatchObject({ extensions: { code: 'UNAUTHENTICATED' } });
  }, 10_000);

  it('keys on the whole text: a token with another signature or other claims is verified on its own', async () => {
    const auth = new Authenticator({ secret: SECRET, maxLifetimeSeconds: 3600 });
    const t = await token({ roles: ['OPERATOR'] }, now() + 600);
    await auth.authenticate(`Bearer ${t}`, 'RU');
    const [header, payload] = t.split('.');
    const forgedPayload = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload!, 'base64url').toString()), roles: ['DPO'] })).toString('base64url');
    await expect(auth.authenticate(`Bearer ${header}.${forgedPayload}.${t.split('.')[2]}`, 'RU')).rejects.toMatchObject({ extensions: { code: 'UNAUTHENTICATED' } });
    const foreign = await token({ roles: ['OPERATOR'] }, now() + 600, 'another-secret-of-at-least-32-characters!');
    await expect(auth.authenticate(`Bearer ${foreign}`, 'RU')).rejects.toMatchObject({ extensions: { code: 'UNAUTHENTICATED' } });
  });

  it('never remembers a refusal, and still refuses tokens that live too long or partners without a creditor', async () => {
    const auth = new Authenticator({ secret: SECRET, maxLifetimeSeconds: 60 });
    const tooLong = await token({ roles: ['DPO'] }, now() + 3600);
    for (let i = 0; i < 2; i += 1) await expect(auth.authenticate(`Bearer ${tooLong}`, 'KK')).rejects.toMatchObject({ extensions: { code: 'UNAUTHENTICATED' } });
    const partner = await token({ roles: ['PARTNER'] }, now() + 30);
    await expect(auth.authenticate(`Bearer ${partner}`, 'RU')).rejects.toMatchObject({ extensions: { code: 'UNAUTHENTICATED' } });
    await expect(auth.authenticate('Basic abc', 'RU')).rejects.toMatchObject({ extensions: { code: 'UNAUTHENTICATED' } });
    expect((await auth.authenticate(undefined, 'RU')).roles).toEqual(['PUBLIC']);
  });
});
