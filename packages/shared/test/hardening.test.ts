import { createHmac } from 'node:crypto';
import { SignJWT, importJWK, jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import { ActorTokenSigner, ActorTokenVerifier, generateEventKeyPair, safeError, scrubText, type Actor, type RequestMeta } from '../src';

const gateway = generateEventKeyPair();
const signer = ActorTokenSigner.fromKey(gateway.privateJwk);
const verifier = ActorTokenVerifier.fromKeys(gateway.publicJwk);
const actor: Actor = { id: 'dpo-1', roles: ['DPO'], creditorId: null };
const meta: RequestMeta = { requestId: 'r1', locale: 'RU', ip: null, userAgent: null };
const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');

/** A token shaped like the gateway's, signed with its key (or another), with the lifetime under test. */
async function forged(claims: { exp?: number; iat?: number; aud?: string }, key = gateway.privateJwk) {
  let jwt = new SignJWT({ roles: ['DPO'], creditor_id: null, locale: 'RU', ip: null, ua: null, rid: 'r1' })
    .setProtectedHeader({ alg: 'EdDSA' })
    .setSubject('dpo-1')
    .setIssuer('pdp-gateway')
    .setAudience(claims.aud ?? 'subjects');
  if (claims.iat !== undefined) jwt = jwt.setIssuedAt(claims.iat);
  if (claims.exp !== undefined) jwt = jwt.setExpirationTime(claims.exp);
  return jwt.sign(await importJWK(JSON.parse(key), 'EdDSA'));
}

describe("the gateway's actor token", () => {
  const now = Math.floor(Date.now() / 1000);

  it("accepts the gateway's own 60-second token, for the subgraph it names", () => {
    expect(verifier.verify(signer.sign(actor, meta, 'subjects'), 'subjects')).toMatchObject({ actor });
  });

  it('is for one subgraph: replayed to another, it is refused', () => {
    expect(() => verifier.verify(signer.sign(actor, meta, 'appeals'), 'subjects')).toThrow(/audience/);
  });

  it('refuses a token without exp, without iat, or living longer than 60 s', async () => {
    for (const claims of [
      { iat: now },
      { exp: now + 30 },
      { iat: now, exp: now + 10 * 365 * 24 * 3600 },
      { iat: now - 3000, exp: now + 30 },
      { iat: now + 3600, exp: now + 3650 },
    ]) {
      const token = await forged(claims);
      expect(() => verifier.verify(token, 'subjects'), JSON.stringify(claims)).toThrow();
    }
    expect(verifier.verify(await forged({ iat: now, exp: now + 60 }), 'subjects')).toBeTruthy();
  });

  it('is a standard EdDSA JWT (jose verifies it), and only its exact signature by the gateway passes', async () => {
    const token = signer.sign(actor, meta, 'subjects');
    const { payload } = await jwtVerify(token, await importJWK(JSON.parse(gateway.publicJwk), 'EdDSA'), {
      issuer: 'pdp-gateway',
      audience: 'subjects',
      algorithms: ['EdDSA'],
    });
    expect(payload).toMatchObject({ sub: 'dpo-1', roles: ['DPO'], rid: 'r1' });
    expect((payload.exp ?? 0) - (payload.iat ?? 0)).toBe(60);
    const [header, body, signature] = token.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(body, 'base64url').toString());
    const flipped = `${signature.slice(0, -2)}${signature.at(-2) === 'A' ? 'B' : 'A'}${signature.at(-1)}`;
    // The classic confusion: HS256 with the gateway's public key as the secret.
    const hsInput = `${b64({ alg: 'HS256' })}.${body}`;
    const confused = `${hsInput}.${createHmac('sha256', gateway.publicJwk).update(hsInput).digest('base64url')}`;
    for (const [what, bad] of [
      ["a subgraph's own key", ActorTokenSigner.fromKey(generateEventKeyPair().privateJwk).sign(actor, meta, 'subjects')],
      ['a changed signature', `${header}.${body}.${flipped}`],
      ['a signature spelled otherwise', `${header}.${body}.${signature}=`],
      ['another role under the same signature', `${header}.${b64({ ...claims, roles: ['DPO', 'AUDITOR'] })}.${signature}`],
      ['alg none', `${b64({ alg: 'none' })}.${body}.`],
      ['HS256 with the public key as the secret', confused],
      ['no signature', `${header}.${body}`],
    ] as const) {
      expect(() => verifier.verify(bad, 'subjects'), what).toThrow();
    }
    const expired = await forged({ iat: now - 70, exp: now - 10 });
    expect(() => verifier.verify(expired, 'subjects')).toThrow();
  });

  it("takes the gateway's keys as a JWK or a list during a rotation, and names a bad one without quoting it", () => {
    const next = generateEventKeyPair();
    const rotating = ActorTokenVerifier.fromKeys(JSON.stringify([JSON.parse(next.publicJwk), JSON.parse(gateway.publicJwk)]));
    expect(rotating.verify(signer.sign(actor, meta, 'audit'), 'audit')).toBeTruthy();
    expect(() => ActorTokenVerifier.fromKeys('{"kty":"OKP","crv":"Ed25519","x":"secret-looking"}')).toThrow(/ACTOR_VERIFY_KEYS/);
    expect(() => ActorTokenVerifier.fromKeys(gateway.privateJwk)).toThrow(/not a public key/);
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
