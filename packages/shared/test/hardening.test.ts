import { SignJWT, jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import { safeError, scrubText, signActorToken, verifyActorToken, type Actor, type RequestMeta } from '../src';

const SECRET = 'internal-secret-that-is-at-least-32-characters';
const actor: Actor = { id: 'dpo-1', roles: ['DPO'], creditorId: null };
const meta: RequestMeta = { requestId: 'r1', locale: 'RU', ip: null, userAgent: null };

/** A token shaped like the gateway's, with the lifetime under test. */
function forged(claims: { exp?: number; iat?: number }) {
  let jwt = new SignJWT({ roles: ['DPO'], creditor_id: null, locale: 'RU', ip: null, ua: null, rid: 'r1' })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject('dpo-1')
    .setIssuer('pdp-gateway')
    .setAudience('pdp-subgraph');
  if (claims.iat !== undefined) jwt = jwt.setIssuedAt(claims.iat);
  if (claims.exp !== undefined) jwt = jwt.setExpirationTime(claims.exp);
  return jwt.sign(new TextEncoder().encode(SECRET));
}

describe('the internal actor token', () => {
  const now = Math.floor(Date.now() / 1000);

  it('accepts the gateway’s own 60-second token', async () => {
    const token = await signActorToken(SECRET, actor, meta);
    await expect(verifyActorToken(SECRET, token)).resolves.toMatchObject({ actor });
  });

  it('refuses a token without exp, without iat, or living longer than 60 s', async () => {
    for (const claims of [
      { iat: now },
      { exp: now + 30 },
      { iat: now, exp: now + 10 * 365 * 24 * 3600 },
      { iat: now - 3000, exp: now + 30 },
      { iat: now + 3600, exp: now + 3650 },
    ]) {
      await expect(verifyActorToken(SECRET, await forged(claims)), JSON.stringify(claims)).rejects.toThrow();
    }
    await expect(verifyActorToken(SECRET, await forged({ iat: now, exp: now + 60 }))).resolves.toBeTruthy();
  });

  it('is a standard HS256 JWT (jose verifies it), and nothing but its exact signature with the right secret passes', async () => {
    const token = await signActorToken(SECRET, actor, meta);
    const { payload } = await jwtVerify(token, new TextEncoder().encode(SECRET), { issuer: 'pdp-gateway', audience: 'pdp-subgraph', algorithms: ['HS256'] });
    expect(payload).toMatchObject({ sub: 'dpo-1', roles: ['DPO'], rid: 'r1' });
    expect((payload.exp ?? 0) - (payload.iat ?? 0)).toBe(60);
    const [header, body, signature] = token.split('.') as [string, string, string];
    const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const claims = JSON.parse(Buffer.from(body, 'base64url').toString());
    const flipped = `${signature.slice(0, -2)}${signature.at(-2) === 'A' ? 'B' : 'A'}${signature.at(-1)}`;
    for (const [what, bad] of [
      ['another secret', await signActorToken(`${SECRET}-other`, actor, meta)],
      ['a changed signature', `${header}.${body}.${flipped}`],
      ['a signature spelled otherwise', `${header}.${body}.${signature}=`],
      ['another role under the same signature', `${header}.${b64({ ...claims, roles: ['DPO', 'AUDITOR'] })}.${signature}`],
      ['alg none', `${b64({ alg: 'none' })}.${body}.`],
      ['alg HS512 header over the same body', `${b64({ alg: 'HS512' })}.${body}.${signature}`],
      ['no signature', `${header}.${body}`],
    ] as const) {
      await expect(verifyActorToken(SECRET, bad), what).rejects.toThrow();
    }
    const wrongAudience = await new SignJWT({ roles: ['DPO'], creditor_id: null, locale: 'RU', ip: null, ua: null, rid: 'r1' })
      .setProtectedHeader({ alg: 'HS256' }).setSubject('dpo-1').setIssuer('pdp-gateway').setAudience('someone-else').setIssuedAt().setExpirationTime('60s')
      .sign(new TextEncoder().encode(SECRET));
    await expect(verifyActorToken(SECRET, wrongAudience)).rejects.toThrow();
    const expired = await forged({ iat: now - 70, exp: now - 10 });
    await expect(verifyActorToken(SECRET, expired)).rejects.toThrow();
  });
});

describe('error texts in logs', () => {
  it('lose quoted values, e-mails and long digit runs; driver errors keep their code only', () => {
    expect(scrubText('invalid input syntax for type uuid: "871008401427"')).toBe('invalid input syntax for type uuid: "…"');
    expect(scrubText(`Unexpected token 'x', "{"iin": "8710..." is not valid JSON`)).not.toMatch(/8710/);
    expect(scrubText('mail a.b@mail.kz or +7 701 123 45 67, id 8710084')).toBe('mail …@… or …, id …');
    const pgError = Object.assign(new Error('invalid input syntax for type uuid: "871008401427"'), { code: '22P02' });
    const safe = safeError(pgError);
    expect(safe.message).toBe('database error 22P02');
    expect(JSON.stringify(safe)).not.toContain('871008401427');
  });
});
