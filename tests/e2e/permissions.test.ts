import { OPERATIONS, ROLES, isOperation, type Role } from '@pdp/shared';
import { describe } from 'vitest';
import { graphql, tokenFor } from '../support/client';
import { AUTH_JWT_SECRET, expect, test } from '../support/fixtures';
import { intakeSubject } from '../support/intake';
import { apiSchema, requestFor, rootFields } from '../support/schema';

const SUBJECT = `query($id: ID!) { subject(id: $id) { id status categories iin } }`;

/**
 * Operations whose allowed role is still refused for a resource outside its own scope: a partner
 * answering an appeal that was not forwarded to its creditor (here a random id) is FORBIDDEN too.
 */
const SCOPED: Record<string, readonly Role[]> = { 'Mutation.respondToAppeal': ['PARTNER'] };

async function tokenOf(role: Role): Promise<string | undefined> {
  if (role === 'PUBLIC') return undefined;
  return tokenFor(AUTH_JWT_SECRET, [role], { sub: `${role.toLowerCase()}-perm`, ...(role === 'PARTNER' ? { creditorId: crypto.randomUUID() } : {}) });
}

/**
 * The permission table (`packages/shared/src/auth/permissions.ts`) against the composed supergraph:
 * every Query and Mutation field has a row, and every role × field is tried through the gateway —
 * the roles the table lists are not refused, every other role is FORBIDDEN.
 */
describe('who may see whose data', () => {
  test('every root field of the supergraph has a row, and each role × operation gets what the table says', { timeout: 180_000 }, async ({ system }) => {
    const schema = await apiSchema(system.url, (await tokenOf('DPO'))!);
    const fields = rootFields(schema);
    const missing = fields.map((f) => `${f.type}.${f.field.name}`).filter((name) => !isOperation(name));
    expect(missing, 'root fields without a row in the permission table').toEqual([]);

    const mismatches: string[] = [];
    const tokens = Object.fromEntries(await Promise.all(ROLES.map(async (r) => [r, await tokenOf(r)] as const)));
    for (const root of fields) {
      const name = `${root.type}.${root.field.name}` as keyof typeof OPERATIONS;
      const allowed: readonly Role[] = OPERATIONS[name];
      for (const role of ROLES) {
        const { query, variables } = requestFor(root);
        const res = await graphql(system.url, query, variables, { token: tokens[role] });
        const codes = (res.errors ?? []).map((e) => e.extensions?.code);
        const refused = codes.includes('FORBIDDEN');
        if (refused && SCOPED[name]?.includes(role)) continue;
        if (refused === allowed.includes(role)) mismatches.push(`${name} as ${role}: ${refused ? 'FORBIDDEN' : `allowed (${codes.join(',') || 'ok'})`}`);
      }
    }
    expect(mismatches).toEqual([]);
  });

  test('a role reads only the subject categories its purpose covers; the CHAIRMAN sees no PD values', async ({ system }) => {
    const { subjectId } = await intakeSubject(system);
    const read = async (role: Role) => graphql(system.url, SUBJECT, { id: subjectId }, { token: await tokenOf(role) });
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
});
