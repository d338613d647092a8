import { fieldsUnreadable } from '@pdp/shared';
import { eventually, makeIin } from '@pdp/shared/testing';
import { sql } from 'kysely';
import { describe } from 'vitest';
import { expect, test, type Gw } from '../support/fixtures';
import { intakeSubject } from '../support/intake';
import type { System } from '../support/system';

/**
 * Someone with a service's database login (security.md, "Attackers") swaps two people's ciphertexts
 * between their rows. Every value is bound to its service, table, column and row, so the service
 * refuses them where they are read — and does nothing with them — instead of showing, applying or
 * transferring one person's data as another's.
 */

const CONTACT = `query($id: ID!) { appeal(id: $id) { id contact { phone email description } } }`;
const IIN = `query($id: ID!) { subject(id: $id) { id iin } }`;
const EVIDENCE = `query($id: ID!) { subject(id: $id) { consents { evidence { ip userAgent } } } }`;
const REQUEST = `mutation($input: RectificationInput!) { requestRectification(input: $input) { id } }`;
const REVIEW = `mutation($id: ID!) { reviewRectification(requestId: $id, approve: true, note: "documents checked") { id status } }`;
const BY_IIN = `query($iin: String!) { subjectByIin(iin: $iin) { id } }`;

async function unreadable(service: string, table: string, column: string): Promise<number> {
  const values = (await fieldsUnreadable.get()).values.filter((v) => v.labels.service === service && v.labels.table === table && v.labels.column === column);
  return values.reduce((n, v) => n + v.value, 0);
}

/** The first error's code, and that nothing of either person is in the answer. */
function refused(res: { data?: unknown; errors?: Array<{ extensions?: Record<string, unknown> }> }, values: string[]): string | undefined {
  const text = JSON.stringify(res);
  for (const value of values) expect(text).not.toContain(value);
  return res.errors?.[0]?.extensions?.code as string | undefined;
}

async function two(system: System) {
  const people = [
    { iin: makeIin('1981-01-11', 'M', 311), phone: '+7 701 111 11 11', email: 'first.person@mail.kz', description: 'Первое обращение: звонят по ночам.' },
    {
      iin: makeIin('1982-02-12', 'F', 312),
      phone: '+7 702 222 22 22',
      email: 'second.person@mail.kz',
      description: 'Второе обращение: угрожают родственникам.',
    },
  ];
  const [a, b] = [await intakeSubject(system, people[0]), await intakeSubject(system, people[1])];
  return { a: { ...a, ...people[0]! }, b: { ...b, ...people[1]! } };
}

/** Swaps the columns' values of two rows in one statement, as someone with the database login could. */
async function swapRows(system: System, service: 'subjects' | 'appeals' | 'consents', table: string, columns: string[], ids: [string, string]) {
  const [x, y] = ids;
  await sql`update ${sql.table(table)} t set ${sql.join(columns.map((c) => sql`${sql.ref(c)} = o.${sql.ref(c)}`))}
            from ${sql.table(table)} o where (t.id = ${x} and o.id = ${y}) or (t.id = ${y} and o.id = ${x})`.execute(system.db(service));
}

async function contactOf(gw: Gw, appealId: string) {
  const res = await gw(CONTACT, { id: appealId }, { as: 'DPO' });
  expect(res.errors).toBeUndefined();
  return res.data.appeal.contact as { phone: string; email: string; description: string };
}

describe('a ciphertext moved to another row does not open', () => {
  test('two people’s contact data, IINs and consent evidence swapped in the databases are refused where read', async ({ system, gw }) => {
    const { a, b } = await two(system);
    const [contactA, contactB] = [await contactOf(gw, a.appealId), await contactOf(gw, b.appealId)];
    expect(contactA.description).toBe(a.description);
    const pd = [a.iin, b.iin, contactA.phone, contactB.phone, a.email.toLowerCase(), b.email.toLowerCase(), a.description, b.description];

    // appeals: phone, e-mail and description of the two appeals swapped.
    const before = await unreadable('appeals', 'appeals', 'phone_enc');
    await swapRows(system, 'appeals', 'appeals', ['phone_enc', 'email_enc', 'description_enc'], [a.appealId, b.appealId]);
    for (const id of [a.appealId, b.appealId]) expect(refused(await gw(CONTACT, { id }, { as: 'DPO' }), pd)).toBe('INTERNAL_SERVER_ERROR');
    expect(await unreadable('appeals', 'appeals', 'phone_enc')).toBeGreaterThanOrEqual(before + 2);
    // Put back where they belong, they open again: the refusal was the move, nothing else.
    await swapRows(system, 'appeals', 'appeals', ['phone_enc', 'email_enc', 'description_enc'], [a.appealId, b.appealId]);
    expect(await contactOf(gw, a.appealId)).toEqual(contactA);

    // subjects: the IINs swapped. Found by the blind index, the subject's IIN is refused.
    await swapRows(system, 'subjects', 'subjects', ['iin_enc'], [a.subjectId, b.subjectId]);
    for (const id of [a.subjectId, b.subjectId]) expect(refused(await gw(IIN, { id }, { as: 'DPO' }), pd)).toBe('INTERNAL_SERVER_ERROR');
    expect((await gw(BY_IIN, { iin: a.iin }, { as: 'DPO' })).data.subjectByIin.id).toBe(a.subjectId);

    // consents: the evidence of the two intake consents swapped.
    const consentIds = await Promise.all(
      [a.appealId, b.appealId].map(
        async (appealId) => (await system.db('consents').selectFrom('consents').select('id').where('appeal_id', '=', appealId).executeTakeFirstOrThrow()).id,
      ),
    );
    expect((await gw(EVIDENCE, { id: a.subjectId }, { as: 'DPO' })).errors).toBeUndefined();
    await swapRows(system, 'consents', 'consents', ['ip_enc', 'user_agent_enc'], consentIds as [string, string]);
    expect(refused(await gw(EVIDENCE, { id: a.subjectId }, { as: 'DPO' }), pd)).toBe('INTERNAL_SERVER_ERROR');
  });

  test('swapped rectification values are not applied: the request stays pending and nothing is recorded as done', async ({ system, gw }) => {
    const { a, b } = await two(system);
    const newIins = [makeIin('1983-03-13', 'M', 313), makeIin('1984-04-14', 'F', 314)];
    const requests: string[] = [];
    for (const [i, person] of [a, b].entries()) {
      const res = await gw(
        REQUEST,
        { input: { subjectId: person.subjectId, field: 'iin', newValue: newIins[i], documents: ['ID card 012345678'] } },
        { as: 'DPO' },
      );
      expect(res.errors).toBeUndefined();
      requests.push(res.data.requestRectification.id);
    }
    await swapRows(system, 'subjects', 'rectification_requests', ['new_value_enc'], requests as [string, string]);
    const subjects = system.db('subjects');
    const identities = async () =>
      subjects.selectFrom('subjects').select(['id', 'iin_enc', 'iin_bidx']).where('id', 'in', [a.subjectId, b.subjectId]).orderBy('id').execute();
    const outbox = system.platformDb('subjects');
    const { seq: lastSeq } = await outbox
      .selectFrom('outbox')
      .select((eb) => eb.fn.max('seq').as('seq'))
      .executeTakeFirstOrThrow();
    const before = await identities();

    // Approving would have given a's record b's new IIN. Refused, and the whole change rolled back.
    for (const id of requests) expect(refused(await gw(REVIEW, { id }, { as: 'DPO' }), [...newIins, a.iin, b.iin])).toBe('INTERNAL_SERVER_ERROR');
    expect(await identities()).toEqual(before);
    const statuses = await subjects.selectFrom('rectification_requests').select(['status', 'reviewed_by']).where('id', 'in', requests).execute();
    expect(statuses).toEqual([
      { status: 'PENDING', reviewed_by: null },
      { status: 'PENDING', reviewed_by: null },
    ]);
    for (const iin of newIins) expect((await gw(BY_IIN, { iin }, { as: 'DPO' })).data.subjectByIin).toBeNull();
    // No event says anything was applied (the lookups just made add their own reads only).
    const events = (await outbox.selectFrom('outbox').select('payload').where('seq', '>', lastSeq).execute()).map((r) => (r.payload as { type: string }).type);
    expect(events.filter((t) => t.startsWith('rectification.'))).toEqual([]);
    await eventually(
      async () => {
        const applied = await system.db('audit').selectFrom('audit_log').select('event_type').where('subject_id', 'in', [a.subjectId, b.subjectId]).execute();
        return applied.some((r) => r.event_type === 'rectification.requested') && applied.every((r) => r.event_type !== 'rectification.applied');
      },
      15_000,
      'the audit holds the requests and no application',
    );

    // Put back, the same approval goes through.
    await swapRows(system, 'subjects', 'rectification_requests', ['new_value_enc'], requests as [string, string]);
    expect((await gw(REVIEW, { id: requests[0] }, { as: 'DPO' })).data.reviewRectification.status).toBe('APPLIED');
    expect((await gw(BY_IIN, { iin: newIins[0] }, { as: 'DPO' })).data.subjectByIin.id).toBe(a.subjectId);
  });
});
