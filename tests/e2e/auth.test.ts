import { createPublicKey, generateKeyPairSync, type JsonWebKey } from 'node:crypto';
import { devClientSecret } from '@pdp/dev-oidc/constants';
import { eventually } from '@pdp/shared/testing';
import { calculateJwkThumbprint, importJWK, SignJWT, type JWTPayload } from 'jose';
import { describe } from 'vitest';
import { graphql } from '../support/client';
import { testEnv } from '../support/env';
import { expect, startSystem, test } from '../support/fixtures';
import { clientToken, signIn } from '../support/identity';
import { form, settled, SUBMIT } from '../support/intake';
import type { System } from '../support/system';
import { quiescent } from '../support/audit';

const SUBJECT = `query($id: ID!) { subject(id: $id) { id status } }`;
const ME = `{ me { account displayName roles creditor { id } } }`;
const GRANT = `mutation($input: AccessGrantInput!) { grantAccess(input: $input) { id account roles creditor { id } reason grantedBy revokedAt } }`;
const REVOKE = `mutation($id: ID!, $reason: String!) { revokeAccess(grantId: $id, reason: $reason) { id revokedAt revokedBy revokeReason } }`;

/** A token the run's provider would never issue: signed with its key (or another), with the claims given. */
async function forged(claims: JWTPayload, opts: { key?: JsonWebKey; kid?: string; alg?: string } = {}): Promise<string> {
  const { provider } = testEnv();
  const jwk = opts.key ?? provider.signingKey!;
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ iss: provider.issuer, aud: provider.audience, sub: 'forger', iat: now, exp: now + 600, ...claims })
    .setProtectedHeader({ alg: opts.alg ?? 'ES256', kid: opts.kid ?? (await providerKid()) })
    .sign(await importJWK(jwk as never, opts.alg ?? 'ES256'));
}

async function providerKid(): Promise<string> {
  const { d: _, ...publicJwk } = testEnv().provider.signingKey!;
  return calculateJwkThumbprint(publicJwk as never);
}

/** An HS256 token whose secret is the provider's public key: the classic algorithm confusion. */
async function confused(): Promise<string> {
  const { provider } = testEnv();
  const pem = createPublicKey({ key: provider.signingKey!, format: 'jwk' }).export({ format: 'pem', type: 'spki' }).toString();
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ iss: provider.issuer, aud: provider.audience, sub: 'dpo-bootstrap', iat: now, exp: now + 600 })
    .setProtectedHeader({ alg: 'HS256' })
    .sign(new TextEncoder().encode(pem));
}

function unsigned(claims: JWTPayload): string {
  const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const { provider } = testEnv();
  return `${b64({ alg: 'none' })}.${b64({ iss: provider.issuer, aud: provider.audience, sub: 'dpo-bootstrap', exp: Math.floor(Date.now() / 1000) + 600, ...claims })}.`;
}

async function refusalsIn(system: System) {
  await quiescent(system);
  return system.db('audit').selectFrom('audit_log').select(['actor_id', 'details']).where('event_type', '=', 'request.refused').orderBy('seq').execute();
}

describe("sign-in at the OpenID provider; what an account may do is the access registry's", () => {
  test('a token from the provider names an account; with no grant it may ask `me` and the public texts, nothing else (NO_GRANT, recorded)', async ({
    system,
  }) => {
    const token = await signIn(testEnv().provider.issuer, 'newcomer');
    const me = await graphql(system.url, ME, {}, { token });
    expect(me.data.me).toEqual({ account: 'newcomer', displayName: 'newcomer', roles: [], creditor: null });
    expect((await graphql(system.url, '{ consentTemplate(code: "ANNEX2_APPLICANT", locale: RU) { code } }', {}, { token })).errors).toBeUndefined();
    const refused = await graphql(system.url, SUBJECT, { id: crypto.randomUUID() }, { token, headers: { 'accept-language': 'kk' } });
    expect(refused.status).toBe(403);
    expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'NO_GRANT' });
    expect(refused.errors?.[0]?.message).toMatch(/қол жеткізу берілмеген/);
    expect((await refusalsIn(system)).map((r) => [r.actor_id, (r.details as { reason?: string }).reason])).toContainEqual(['newcomer', 'NO_GRANT']);
  });

  test("a token's own roles claim means nothing: the provider's signature on `roles: [DPO]` grants nobody anything", async ({ system }) => {
    const token = await forged({ sub: 'claims-dpo', roles: ['DPO'], creditor_id: crypto.randomUUID() });
    expect((await graphql(system.url, ME, {}, { token })).data.me.roles).toEqual([]);
    expect((await graphql(system.url, SUBJECT, { id: crypto.randomUUID() }, { token })).errors?.[0]?.extensions?.reason).toBe('NO_GRANT');
  });

  test('bad tokens are UNAUTHENTICATED (401) with the reason, in kk or ru, each recorded, nothing stored', async ({ system }) => {
    const { provider } = testEnv();
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });
    const now = Math.floor(Date.now() / 1000);
    const cases: Array<[string, string, string]> = [
      ['wrong issuer', await forged({ iss: 'http://127.0.0.1:1/evil' }), 'ISSUER'],
      ['wrong audience', await forged({ aud: 'another-api' }), 'AUDIENCE'],
      ['expired', await forged({ iat: now - 7200, exp: now - 3600 }), 'EXPIRED'],
      ['not yet valid', await forged({ nbf: now + 3600 }), 'NOT_YET_VALID'],
      ['unknown kid', await forged({}, { key: other, kid: 'made-up-kid' }), 'UNKNOWN_KEY'],
      ["another key under the provider's kid", await forged({}, { key: other, kid: await providerKid() }), 'SIGNATURE'],
      ['HS256 with the public key as secret', await confused(), 'ALGORITHM'],
      ['alg none', unsigned({}), 'ALGORITHM'],
      ['lives longer than the limit', await forged({ exp: now + 3 * 24 * 3600 }), 'LIFETIME'],
      ['no exp', await forged({ exp: undefined }), 'CLAIMS'],
      ['garbage', 'not-a-jwt', 'MALFORMED'],
    ];
    for (const sub of ['anonymous', 'аnonymous', 'ｐｕｂｌｉｃ', 'pub1ic', 'system:retention', 'SYSTEM:retention'])
      cases.push([`reserved name ${sub}`, await forged({ sub }), 'SUBJECT']);
    for (const [name, token, reason] of cases) {
      const res = await graphql(system.url, SUBJECT, { id: crypto.randomUUID() }, { token, headers: { 'accept-language': 'ru' } });
      expect({ name, status: res.status, code: res.errors?.[0]?.extensions?.code, reason: res.errors?.[0]?.extensions?.reason }).toEqual({
        name,
        status: 401,
        code: 'UNAUTHENTICATED',
        reason,
      });
      expect(res.errors?.[0]?.message).toMatch(/[А-Яа-я]/);
    }
    const refusals = await refusalsIn(system);
    expect(refusals.filter((r) => r.actor_id === 'unauthenticated').map((r) => (r.details as { reason?: string }).reason)).toEqual(cases.map((c) => c[2]));
    expect(JSON.stringify(refusals)).not.toContain(provider.issuer.split(':')[2]);
  });

  test('roles come from the registry: a grant is enforced, a revocation stops the very next requests on every gateway, whatever the exp', async ({
    system,
  }) => {
    const second = await system.startExtraGateway();
    const dpo = await system.accounts.dpo();
    const token = await signIn(testEnv().provider.issuer, 'op-revoked');
    const granted = await graphql(
      system.url,
      GRANT,
      { input: { account: 'op-revoked', displayName: 'Айгүл Нұрланқызы', roles: ['OPERATOR'], reason: 'Приказ №12 от 01.12.2026' } },
      { token: dpo },
    );
    expect(granted.data.grantAccess).toMatchObject({ account: 'op-revoked', roles: ['OPERATOR'], grantedBy: 'dpo-bootstrap', revokedAt: null });
    const worklist = '{ appeals(first: 1) { totalCount } }';
    for (const url of [system.url, second.url]) {
      await eventually(async () => (await graphql(url, worklist, {}, { token })).data?.appeals, 10_000, 'the grant on both gateways');
    }
    const revoked = await graphql(system.url, REVOKE, { id: granted.data.grantAccess.id, reason: 'Уволена' }, { token: dpo });
    expect(revoked.data.revokeAccess).toMatchObject({ revokedBy: 'dpo-bootstrap', revokeReason: 'Уволена' });
    for (const url of [system.url, second.url]) {
      await eventually(
        async () => (await graphql(url, worklist, {}, { token })).errors?.[0]?.extensions?.reason === 'NO_GRANT',
        10_000,
        'the revocation on both gateways',
      );
    }
    const list = await graphql(
      system.url,
      '{ accessGrants(filter: { account: "op-revoked" }) { totalCount edges { node { roles revokedAt } } } }',
      {},
      { token: dpo },
    );
    expect(list.data.accessGrants.totalCount).toBe(1);
    expect(list.data.accessGrants.edges[0].node.revokedAt).not.toBeNull();
  });

  test('a partner system signs in with client credentials; its creditor comes from its grant; a suspension stops it and forwarding to it', async ({
    system,
  }) => {
    const { provider } = testEnv();
    const dpo = await system.accounts.dpo();
    const creditor = await graphql(
      system.url,
      'mutation { registerCreditor(input: { bin: "050540004455", name: "ТОО «Кредитор»", country: "KZ" }) { id } }',
      {},
      { token: dpo },
    );
    const creditorId = creditor.data.registerCreditor.id;
    const token = await clientToken(provider.issuer, 'partner-client-1', devClientSecret(provider.clientKey, 'partner-client-1'));
    await graphql(
      system.url,
      GRANT,
      { input: { account: 'partner-client-1', displayName: 'ТОО «Кредитор» API', roles: ['PARTNER'], creditorId, reason: 'Договор №7' } },
      { token: dpo },
    );
    await system.accounts.untilEnforced('partner-client-1', token, ['PARTNER'], creditorId);
    expect((await graphql(system.url, ME, {}, { token })).data.me).toMatchObject({
      account: 'partner-client-1',
      roles: ['PARTNER'],
      creditor: { id: creditorId },
    });
    const page = '{ partnerAppeals(first: 5) { totalCount } }';
    expect((await graphql(system.url, page, {}, { token })).data.partnerAppeals.totalCount).toBe(0);

    const suspended = await graphql(
      system.url,
      'mutation($id: ID!) { suspendCreditor(creditorId: $id, reason: "Нарушение договора") { suspendedAt suspendReason } }',
      { id: creditorId },
      { token: dpo },
    );
    expect(suspended.data.suspendCreditor.suspendReason).toBe('Нарушение договора');
    await eventually(
      async () => (await graphql(system.url, page, {}, { token })).errors?.[0]?.extensions?.reason === 'CREDITOR_SUSPENDED',
      10_000,
      'the suspension',
    );
    expect((await graphql(system.url, ME, {}, { token })).data.me.roles).toEqual([]);
    const { appealId } = await intakeAppeal(system);
    const operator = await system.tokenFor(['OPERATOR']);
    const forward = await graphql(
      system.url,
      'mutation($a: ID!, $c: ID!) { forwardAppeal(appealId: $a, creditorId: $c, fields: [PHONE]) { id } }',
      { a: appealId, c: creditorId },
      { token: operator },
    );
    expect(forward.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', reason: 'CREDITOR_SUSPENDED' });

    await graphql(
      system.url,
      'mutation($id: ID!) { resumeCreditor(creditorId: $id, reason: "Устранено") { suspendedAt } }',
      { id: creditorId },
      { token: dpo },
    );
    await eventually(async () => (await graphql(system.url, page, {}, { token })).data?.partnerAppeals, 10_000, 'the resumption');
  });

  test('a DPO cannot grant or revoke its own access (OWN_GRANT), and the attempt is recorded', async ({ system }) => {
    const dpo = await system.tokenFor(['DPO'], { sub: 'dpo-self' });
    const own = await graphql(
      system.url,
      GRANT,
      { input: { account: 'dpo-self', displayName: 'Me', roles: ['DPO', 'AUDITOR'], reason: 'more' } },
      { token: dpo },
    );
    expect(own.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'OWN_GRANT' });
    const mine = await graphql(system.url, '{ accessGrants(filter: { account: "dpo-self", active: true }) { edges { node { id } } } }', {}, { token: dpo });
    const revoke = await graphql(system.url, REVOKE, { id: mine.data.accessGrants.edges[0].node.id, reason: 'no' }, { token: dpo });
    expect(revoke.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'OWN_GRANT' });
    await quiescent(system);
    const denied = await system.db('audit').selectFrom('audit_log').select(['actor_id', 'details']).where('event_type', '=', 'access.denied').execute();
    expect(denied.filter((d) => d.actor_id === 'dpo-self' && (d.details as { reason: string }).reason === 'OWN_GRANT')).toHaveLength(2);
  });

  test('bad grants: one error per field in kk/ru, nothing stored', async ({ system }) => {
    const dpo = await system.accounts.dpo();
    const before = await grantCount(system);
    const bad = await graphql(
      system.url,
      GRANT,
      { input: { account: 'аnonymous', displayName: '', roles: ['PUBLIC'], creditorId: crypto.randomUUID(), reason: '   ' } },
      { token: dpo, headers: { 'accept-language': 'kk' } },
    );
    expect(bad.errors?.map((e) => [e.extensions?.code, e.extensions?.field]).sort()).toEqual(
      [
        ['BAD_USER_INPUT', 'account'],
        ['BAD_USER_INPUT', 'creditorId'],
        ['BAD_USER_INPUT', 'displayName'],
        ['BAD_USER_INPUT', 'reason'],
        ['BAD_USER_INPUT', 'roles'],
      ].sort(),
    );
    const partner = await graphql(system.url, GRANT, { input: { account: 'p-1', displayName: 'P', roles: ['PARTNER'], reason: 'x' } }, { token: dpo });
    expect(partner.errors?.map((e) => e.extensions?.field)).toEqual(['creditorId']);
    const mixed = await graphql(
      system.url,
      GRANT,
      { input: { account: 'p-1', displayName: 'P', roles: ['PARTNER', 'OPERATOR'], creditorId: crypto.randomUUID(), reason: 'x' } },
      { token: dpo },
    );
    expect(mixed.errors?.map((e) => e.extensions?.field)).toEqual(['roles']);
    const unknown = await graphql(
      system.url,
      GRANT,
      { input: { account: 'p-1', displayName: 'P', roles: ['PARTNER'], creditorId: crypto.randomUUID(), reason: 'x' } },
      { token: dpo },
    );
    expect(unknown.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'creditorId' });
    const emptyReason = await graphql(system.url, REVOKE, { id: crypto.randomUUID(), reason: '' }, { token: dpo });
    expect(emptyReason.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'reason' });
    expect(await grantCount(system)).toBe(before);
  });

  test('accessList(on) answers from the record for any past day; every grant and revocation is in the audit with who and why', async ({ system }) => {
    const dpo = await system.accounts.dpo();
    // Two grants of last year, written as the registry writes them (history cannot be made through the API).
    const at = (d: string) => new Date(`${d}T06:00:00Z`);
    await system
      .db('appeals')
      .insertInto('access_grants')
      .values([
        {
          id: crypto.randomUUID(),
          account: 'hr-2025',
          display_name_enc: 'x',
          roles: ['HR'],
          creditor_id: null,
          reason: 'r',
          granted_by: 'dpo-old',
          granted_at: at('2025-03-01'),
          revoked_at: at('2025-03-10'),
          revoked_by: 'dpo-old',
          revoke_reason: 'left',
        },
        {
          id: crypto.randomUUID(),
          account: 'ops-2025',
          display_name_enc: 'x',
          roles: ['OPS'],
          creditor_id: null,
          reason: 'r',
          granted_by: 'dpo-old',
          granted_at: at('2025-03-05'),
          revoked_at: null,
          revoked_by: null,
          revoke_reason: null,
        },
      ] as never)
      .execute();
    const on = async (day: string) =>
      (await graphql(system.url, 'query($on: String!) { accessList(on: $on) { account } }', { on: day }, { token: dpo })).data.accessList.map(
        (g: { account: string }) => g.account,
      );
    expect(await on('2025-02-28')).toEqual([]);
    expect(await on('2025-03-07')).toEqual(['hr-2025', 'ops-2025']);
    expect(await on('2025-03-10')).toEqual(['hr-2025', 'ops-2025']);
    expect(await on('2025-03-11')).toEqual(['ops-2025']);
    const future = await graphql(system.url, '{ accessList(on: "2999-01-01") { account } }', {}, { token: dpo });
    expect(future.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'on' });

    const granted = await graphql(
      system.url,
      GRANT,
      { input: { account: 'aud-1', displayName: 'Аудитор', roles: ['AUDITOR'], reason: 'Приказ №3' } },
      { token: dpo },
    );
    await graphql(system.url, REVOKE, { id: granted.data.grantAccess.id, reason: 'Проверка окончена' }, { token: dpo });
    await quiescent(system);
    const entries = await system
      .db('audit')
      .selectFrom('audit_log')
      .select(['event_type', 'actor_id', 'details'])
      .where('event_type', 'in', ['access.granted', 'access.revoked'])
      .orderBy('seq')
      .execute();
    const mine = entries.filter((e) => (e.details as { account?: string }).account === 'aud-1');
    expect(mine.map((e) => [e.event_type, e.actor_id])).toEqual([
      ['access.granted', 'dpo-bootstrap'],
      ['access.revoked', 'dpo-bootstrap'],
    ]);
    expect(JSON.stringify(entries)).not.toContain('Аудитор');
    expect((mine[0]!.details as { reasonSha256: string }).reasonSha256).toMatch(/^[0-9a-f]{64}$/);
  });

  test('a refused call names its subject: twelve refused blockSubject(X) are twelve denials a search by X finds; an appeal id leads to its subject', async ({
    system,
  }) => {
    const res = await graphql(system.url, SUBMIT, { input: form() });
    const appealId = res.data.submitAppeal.appeal.id as string;
    const subjectId = await settled(system, appealId);
    const operator = await system.tokenFor(['OPERATOR'], { sub: 'op-probing' });
    for (let i = 0; i < 12; i += 1) {
      const refused = await graphql(
        system.url,
        'mutation($id: ID!) { blockSubject(subjectId: $id, reason: "x") { id } }',
        { id: subjectId },
        { token: operator },
      );
      expect(refused.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    }
    const hr = await system.tokenFor(['HR'], { sub: 'hr-probing' });
    const forward = await graphql(
      system.url,
      'mutation($a: ID!, $c: ID!) { forwardAppeal(appealId: $a, creditorId: $c, fields: [PHONE]) { id } }',
      { a: appealId, c: crypto.randomUUID() },
      { token: hr },
    );
    expect(forward.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    await quiescent(system);
    const auditor = await system.tokenFor(['AUDITOR']);
    const found = await graphql(
      system.url,
      'query($s: ID!) { auditEntries(filter: { subjectId: $s, operation: "DENIED" }, first: 50) { edges { node { actorId } } } }',
      { s: subjectId },
      { token: auditor },
    );
    const actors = found.data.auditEntries.edges.map((e: { node: { actorId: string } }) => e.node.actorId);
    expect(actors.filter((a: string) => a === 'op-probing')).toHaveLength(12);
    expect(actors).toContain('hr-probing');
  });

  test('anyone may submit a form; only staff may read subjects, and refusals are recorded', async ({ system, gw }) => {
    const submitted = await gw(SUBMIT, { input: form() });
    const appealId = submitted.data.submitAppeal.appeal.id;
    const subjectId = await settled(system, appealId);
    const anonymous = await gw(SUBJECT, { id: subjectId });
    expect(anonymous.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    for (const role of ['PARTNER', 'OPS'] as const) {
      const res = await gw(SUBJECT, { id: subjectId }, { as: role });
      expect(res.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
      expect(res.data?.subject ?? null).toBeNull();
    }
    // The public caller of submitAppeal cannot read back the contact data it sent: no token would
    // help (submitAppeal refuses tokens), and the submission is refused before it is stored.
    const contact = await gw(`mutation($input: SubmitAppealInput!) { submitAppeal(input: $input) { appeal { id contact { phone } } } }`, { input: form() });
    expect(contact.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', fields: ['appeal.contact'] });

    const denied = await system.db('subjects').selectFrom('outbox').select('payload').execute();
    expect(denied.filter((r) => (r.payload as { type: string }).type === 'access.denied').length).toBeGreaterThanOrEqual(2);
  });

  test("subgraphs accept only the gateway's signed word, for themselves: not a forged, misdirected or shared-secret token", async ({ system }) => {
    const { ActorTokenSigner } = await import('@pdp/shared');
    const meta = { requestId: crypto.randomUUID(), locale: 'RU' as const, ip: null, userAgent: null };
    const dpo = { id: 'dpo-forger', roles: ['DPO' as const], creditorId: null };
    // Signed with a subgraph's own event key: no subgraph's key makes another subgraph act.
    const bySubgraph = ActorTokenSigner.fromKey(system.eventKeys.appeals.privateJwk).sign(dpo, meta, 'subjects');
    // The gateway's own token for appeals, replayed to subjects.
    const gatewayKey = ActorTokenSigner.fromKey(system.actorKey.privateJwk);
    const misdirected = gatewayKey.sign(dpo, meta, 'appeals');
    const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const { createHmac } = await import('node:crypto');
    const input = `${b64({ alg: 'HS256' })}.${b64({ sub: 'dpo-forger', roles: ['DPO'], iss: 'pdp-gateway', aud: 'subjects', iat: Math.floor(Date.now() / 1000), exp: Math.floor(Date.now() / 1000) + 30 })}`;
    const hs256 = `${input}.${createHmac('sha256', system.actorKey.publicJwk).update(input).digest('base64url')}`;
    const url = system.services.get('subjects')!.url;
    for (const token of [bySubgraph, misdirected, hs256]) {
      const res = await graphql(url, SUBJECT, { id: crypto.randomUUID() }, { headers: { 'x-pdp-actor': token } });
      expect(res.status).toBe(401);
    }
    expect((await graphql(url, SUBJECT, { id: crypto.randomUUID() }, { headers: { 'x-pdp-actor': gatewayKey.sign(dpo, meta, 'subjects') } })).status).toBe(200);
    for (const name of ['subjects', 'appeals', 'consents', 'audit'] as const) {
      const entities = await graphql(
        system.services.get(name)!.url,
        `query { _entities(representations: [{ __typename: "Subject", id: "${crypto.randomUUID()}" }]) { __typename } }`,
      );
      expect(entities.status).toBe(401);
    }
    expect((await graphql(system.url, `{ _service { sdl } }`)).errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
  });

  test('tokens that live longer than the configured maximum are refused (LIFETIME)', async () => {
    const system = await startSystem({ gateway: { maxTokenLifetimeSeconds: 600 } });
    try {
      // The run's provider issues tokens for an hour.
      const res = await graphql(system.url, ME, {}, { token: await signIn(testEnv().provider.issuer, 'long-lived') });
      expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'LIFETIME' });
    } finally {
      await system.destroy();
    }
  });

  test('the query depth is limited at the gateway, before any subgraph is called', async () => {
    const system = await startSystem({ gateway: { maxQueryDepth: 3 } });
    try {
      const token = await system.tokenFor(['DPO']);
      const shallow = await graphql(system.url, `query($id: ID!) { subject(id: $id) { appeals { id } } }`, { id: crypto.randomUUID() }, { token });
      expect(shallow.errors).toBeUndefined();
      const tooDeep = await graphql(
        system.url,
        `query($id: ID!) { subject(id: $id) { appeals { contact { phone } } } }`,
        { id: crypto.randomUUID() },
        { token },
      );
      expect(tooDeep.status).toBe(400);
      expect(tooDeep.errors?.[0]?.extensions?.code).toBe('QUERY_TOO_DEEP');
    } finally {
      await system.destroy();
    }
  });

  test('anonymous callers are rate-limited per IP; staff are not counted against it', async () => {
    const system = await startSystem({ publicRatePerMinute: 3 });
    try {
      const staffToken = await system.tokenFor(['OPERATOR']);
      const query = `query { consentTemplate(code: "ANNEX2_APPLICANT", locale: RU) { version } }`;
      for (let i = 0; i < 3; i += 1) expect((await graphql(system.url, query)).status).toBe(200);
      const limited = await graphql(system.url, query);
      expect(limited.status).toBe(429);
      expect(limited.errors?.[0]?.extensions?.code).toBe('RATE_LIMITED');
      expect((await graphql(system.url, query, {}, { token: staffToken })).status).toBe(200);
    } finally {
      await system.destroy();
    }
  });
});

async function grantCount(system: System): Promise<number> {
  return Number(
    (
      await system
        .db('appeals')
        .selectFrom('access_grants')
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .executeTakeFirstOrThrow()
    ).n,
  );
}

async function intakeAppeal(system: System): Promise<{ appealId: string }> {
  const res = await graphql(system.url, SUBMIT, { input: form() });
  const appealId = res.data.submitAppeal.appeal.id as string;
  await settled(system, appealId);
  return { appealId };
}
