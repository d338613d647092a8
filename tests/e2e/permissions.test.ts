import { ROLES, SIGNED_IN_ONLY, isOperation, rolesFor, type Operation, type Role } from '@pdp/shared';
import { describe } from 'vitest';
import { graphql } from '../support/client';
import { expect, test } from '../support/fixtures';
import { intakeSubject } from '../support/intake';
import { apiSchema, requestFor, rootFields } from '../support/schema';
import type { System } from '../support/system';

const SUBJECT = `query($id: ID!) { subject(id: $id) { id status categories iin } }`;

/**
 * Operations whose allowed role is still refused for a resource outside its own scope: a partner
 * answering an appeal that was not forwarded to its creditor (here a random id) is FORBIDDEN too.
 */
const SCOPED: Record<string, readonly Role[]> = { 'Mutation.respondToAppeal': ['PARTNER'] };

async function tokenOf(system: System, role: Role): Promise<string | undefined> {
  if (role === 'PUBLIC') return undefined;
  return system.tokenFor([role], { sub: `${role.toLowerCase()}-perm` });
}

/**
 * The permission table (`packages/shared/src/auth/permissions.ts`) against the composed supergraph:
 * every Query and Mutation field has a row, and every role × field is tried through the gateway —
 * the roles the table lists are not refused, every other role is FORBIDDEN.
 */
describe('who may see whose data', () => {
  test('every root field of the supergraph has a row, and each role × operation gets what the table says', { timeout: 180_000 }, async ({ system }) => {
    const schema = await apiSchema(system.url, (await tokenOf(system, 'DPO'))!);
    const fields = rootFields(schema);
    const missing = fields.map((f) => `${f.type}.${f.field.name}`).filter((name) => !isOperation(name));
    expect(missing, 'root fields without a row in the permission table').toEqual([]);

    const mismatches: string[] = [];
    const tokens = Object.fromEntries(await Promise.all(ROLES.map(async (r) => [r, await tokenOf(system, r)] as const)));
    for (const root of fields) {
      const name = `${root.type}.${root.field.name}` as Operation;
      const allowed: readonly Role[] = rolesFor(name);
      for (const role of ROLES) {
        const { query, variables } = requestFor(root);
        const res = await graphql(system.url, query, variables, { token: tokens[role] });
        const codes = (res.errors ?? []).map((e) => e.extensions?.code);
        // Without a token (PUBLIC) an operation that needs one is UNAUTHENTICATED; with one that lacks the role, FORBIDDEN.
        const refusal = role === 'PUBLIC' ? 'UNAUTHENTICATED' : 'FORBIDDEN';
        const refused = codes.includes(refusal);
        if (refused && SCOPED[name]?.includes(role)) continue;
        // Open to every signed-in account, whatever its grant; without a token there is no account.
        if (role === 'PUBLIC' && SIGNED_IN_ONLY.has(name) && codes.includes('UNAUTHENTICATED')) continue;
        if (refused === allowed.includes(role) || (role === 'PUBLIC' && codes.includes('FORBIDDEN'))) {
          mismatches.push(`${name} as ${role}: ${refused ? refusal : `allowed (${codes.join(',') || 'ok'})`}`);
        }
      }
    }
    expect(mismatches).toEqual([]);
  });

  test('a role reads only the subject categories its purpose covers; the CHAIRMAN sees no PD values', async ({ system }) => {
    const { subjectId } = await intakeSubject(system);
    const read = async (role: Role) => graphql(system.url, SUBJECT, { id: subjectId }, { token: await tokenOf(system, role) });
    for (const role of ['HR', 'CONTRACTS'] as const) {
      const res = await read(role);
      expect(res.errors?.[0]?.extensions?.code, role).toBe('FORBIDDEN');
      expect(res.data?.subject ?? null).toBeNull();
    }
    for (const role of ['OPERATOR', 'DPO', 'AUDITOR'] as const) {
      const res = await read(role);
      expect(res.errors, role).toBeUndefined();
      expect(res.data.subject.iin).toMatch(/^\d{12}$/);
    }
    const chairman = await read('CHAIRMAN');
    expect(chairman.data.subject).toMatchObject({ id: subjectId, status: 'ACTIVE', categories: ['APPLICANT'], iin: null });
    expect(chairman.errors?.map((e) => [e.path?.join('.'), e.extensions?.code])).toEqual([['subject.iin', 'FORBIDDEN']]);
    // Each refusal is in the audit with its reason.
    const denied = await system.db('subjects').selectFrom('outbox').select('payload').execute();
    const reasons = denied
      .map((r) => r.payload as { type: string; data: { reason?: string; operation?: string } })
      .filter((p) => p.type === 'access.denied')
      .map((p) => `${p.data.operation}:${p.data.reason}`);
    expect(reasons).toEqual(expect.arrayContaining(['Query.subject:PURPOSE', 'Subject.pd:ROLE']));
  });

  test('a person in two categories: each role sees only its own category, with its purposes and sources', async ({ system }) => {
    const { subjectId, input } = await intakeSubject(system);
    const hr = await tokenOf(system, 'HR');
    const employee = {
      iin: input.iin,
      fullName: 'Сериков Арман',
      position: 'Маман',
      consentDocument: 'Приложение 1 № 9/2026',
      signedAt: '2026-11-02',
      locale: 'KK',
    };
    const registered = await graphql(
      system.url,
      'mutation($input: EmployeeInput!) { registerEmployee(input: $input) { id } }',
      { input: employee },
      { token: hr },
    );
    expect(registered.data?.registerEmployee?.id).toBe(subjectId);
    const query = `query($id: ID!) { subject(id: $id) { categories purposes { code } sources { code } } }`;
    const seen = async (role: Role) => (await graphql(system.url, query, { id: subjectId }, { token: await tokenOf(system, role) })).data?.subject;
    // HR does not learn that its employee filed a complaint; the operator does not learn where they work.
    expect(await seen('HR')).toEqual({ categories: ['EMPLOYEE'], purposes: [{ code: 'LABOUR_RELATIONS' }], sources: [{ code: 'HR' }] });
    expect(await seen('OPERATOR')).toEqual({
      categories: ['APPLICANT'],
      purposes: [{ code: 'APPEAL_HANDLING' }],
      sources: [{ code: expect.stringMatching(/^WEB_FORM_ANNEX_/) }],
    });
    const dpo = await seen('DPO');
    expect([...dpo.categories].sort()).toEqual(['APPLICANT', 'EMPLOYEE']);
    expect(dpo.purposes.map((p: { code: string }) => p.code).sort()).toEqual(['APPEAL_HANDLING', 'LABOUR_RELATIONS']);
  });
});
