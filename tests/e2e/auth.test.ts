import { SignJWT } from 'jose';
import { describe } from 'vitest';
import { graphql, tokenFor } from '../support/client';
import { AUTH_JWT_SECRET, expect, startSystem, test } from '../support/fixtures';
import { form, settled, SUBMIT } from '../support/intake';

const SUBJECT = `query($id: ID!) { subject(id: $id) { id status } }`;

describe('authentication and roles', () => {
  test('bad, expired or foreign tokens are UNAUTHENTICATED (401)', async ({ system }) => {
    const expired = await tokenFor(AUTH_JWT_SECRET, ['DPO'], { expiresIn: '-1m' });
    const foreign = await tokenFor('another-secret-that-is-at-least-32-characters', ['DPO']);
    const noExp = await new SignJWT({ roles: ['DPO'] }).setProtectedHeader({ alg: 'HS256' }).setSubject('x').sign(new TextEncoder().encode(AUTH_JWT_SECRET));
    const unknownRole = await new SignJWT({ roles: ['ROOT'] }).setProtectedHeader({ alg: 'HS256' }).setSubject('x').setExpirationTime('1h').sign(new TextEncoder().encode(AUTH_JWT_SECRET));
    const secret = new TextEncoder().encode(AUTH_JWT_SECRET);
    const now = Math.floor(Date.now() / 1000);
    // Issued an hour from now (a wrong clock, or a token minted to outlive the lifetime limit).
    const fromTheFuture = await new SignJWT({ roles: ['DPO'] }).setProtectedHeader({ alg: 'HS256' }).setSubject('x').setIssuedAt(now + 3600).setExpirationTime(now + 7200).sign(secret);
    // A partner's creditor_id is the Creditor.id registerCreditor returned: a UUID, not any text.
    const notACreditor = await tokenFor(AUTH_JWT_SECRET, ['PARTNER'], { creditorId: "' OR 1=1 --" });
    // PUBLIC is what a request without a token is: a token carrying it could file forms as a person.
    const publicRole = await tokenFor(AUTH_JWT_SECRET, ['PUBLIC']);
    const staffAndPublic = await tokenFor(AUTH_JWT_SECRET, ['OPERATOR', 'PUBLIC']);
    // The platform's own actor ids: a token so named would make a person's actions read as the platform's.
    const reserved = await Promise.all(['anonymous', 'public', 'system:retention', 'public ', ' anonymous', 'public\u200b', '\u202Epublic', 'ｐｕｂｌｉｃ', 'SYSTEM:retention', 'dpo\u0000'].map((sub) => tokenFor(AUTH_JWT_SECRET, ['DPO'], { sub })));
    for (const token of [expired, foreign, noExp, unknownRole, fromTheFuture, notACreditor, publicRole, staffAndPublic, ...reserved, 'garbage']) {
      const res = await graphql(system.url, SUBJECT, { id: crypto.randomUUID() }, { token });
      expect(res.status).toBe(401);
      expect(res.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    }
  });

  test('anyone may submit a form; only staff may read subjects, and refusals are recorded', async ({ system, gw }) => {
    const submitted = await gw(SUBMIT, { input: form() });
    const appealId = submitted.data.submitAppeal.appeal.id;
    const subjectId = await settled(system, appealId);

    // Without a token: UNAUTHENTICATED (a token is needed); with one that lacks the role: FORBIDDEN.
    const anonymous = await gw(SUBJECT, { id: subjectId });
    expect(anonymous.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    for (const role of ['PARTNER', 'OPS'] as const) {
      const res = await gw(SUBJECT, { id: subjectId }, { token: await tokenFor(AUTH_JWT_SECRET, [role], { creditorId: '00000000-0000-4000-8000-00000000c001' }) });
      expect(res.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
      expect(res.data?.subject ?? null).toBeNull();
    }
    // The public caller of submitAppeal cannot read back the contact data it sent: no token would
    // help (submitAppeal refuses tokens), and the submission is refused before it is stored.
    const contact = await gw(`mutation($input: SubmitAppealInput!) { submitAppeal(input: $input) { appeal { id contact { phone } } } }`, { input: form() });
    expect(contact.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', fields: ['appeal.contact'] });

    const denied = await system.db('subjects').selectFrom('outbox').select('payload').execute();
    expect(denied.filter((r) => (r.payload as { type: string }).type === 'access.denied').length).toBeGreaterThanOrEqual(3);
  });

  test('subgraphs refuse requests that did not come through the gateway', async ({ system }) => {
    for (const name of ['subjects', 'appeals', 'consents', 'audit'] as const) {
      const url = system.services.get(name)!.url;
      const entities = await graphql(url, `query { _entities(representations: [{ __typename: "Subject", id: "${crypto.randomUUID()}" }]) { __typename } }`);
      expect(entities.status).toBe(401);
      expect(entities.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
      const sdl = await graphql(url, `{ _service { sdl } }`, {}, { headers: { 'x-pdp-actor': 'forged.token.value' } });
      expect(sdl.status).toBe(401);
    }
    // And the gateway does not expose the federation internals to clients.
    const viaGateway = await graphql(system.url, `{ _service { sdl } }`);
    expect(viaGateway.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
  });

  test('the query depth is limited at the gateway, before any subgraph is called', async () => {
    const system = await startSystem({ gateway: { maxQueryDepth: 3 } });
    try {
      const token = await tokenFor(AUTH_JWT_SECRET, ['DPO']);
      const shallow = await graphql(system.url, `query($id: ID!) { subject(id: $id) { appeals { id } } }`, { id: crypto.randomUUID() }, { token });
      expect(shallow.errors).toBeUndefined();
      const tooDeep = await graphql(system.url, `query($id: ID!) { subject(id: $id) { appeals { contact { phone } } } }`, { id: crypto.randomUUID() }, { token });
      expect(tooDeep.status).toBe(400);
      expect(tooDeep.errors?.[0]?.extensions?.code).toBe('QUERY_TOO_DEEP');
      expect(tooDeep.data).toBeUndefined();
    } finally {
      await system.destroy();
    }
  });

  test('anonymous callers are rate-limited per IP; staff are not counted against it', async () => {
    const system = await startSystem({ publicRatePerMinute: 3 });
    try {
      const query = `query { consentTemplate(code: "ANNEX2_APPLICANT", locale: RU) { version } }`;
      for (let i = 0; i < 3; i += 1) expect((await graphql(system.url, query)).status).toBe(200);
      const limited = await graphql(system.url, query);
      expect(limited.status).toBe(429);
      expect(limited.errors?.[0]?.extensions?.code).toBe('RATE_LIMITED');
      const staff = await graphql(system.url, query, {}, { token: await tokenFor(AUTH_JWT_SECRET, ['OPERATOR']) });
      expect(staff.status).toBe(200);
    } finally {
      await system.destroy();
    }
  });
});
