import { buildEnvelope, EventSigner, natsSubject } from '@pdp/shared';
import { eventually, makeIin } from '@pdp/shared/testing';
import { connect } from 'nats';
import { describe } from 'vitest';
import { graphql } from '../support/client';
import { expect, test } from '../support/fixtures';
import { form, intakeSubject, SUBMIT } from '../support/intake';
import type { System } from '../support/system';

const LIST = `query($filter: AppealFilter, $first: Int, $after: String) {
  appeals(filter: $filter, first: $first, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id reference kind status assignee } } } }`;
const MOVE = `mutation($id: ID!, $s: AppealStatus!) { changeAppealStatus(appealId: $id, status: $s) { id status } }`;
const ASSIGN = `mutation($id: ID!, $who: String!) { assignAppeal(appealId: $id, assignee: $who) { id assignee } }`;
const ANSWER = `mutation($id: ID!, $a: String!) { answerAppeal(appealId: $id, answer: $a) { id status answer } }`;
const CREDITOR = `mutation($input: CreditorInput!) { registerCreditor(input: $input) { id bin name country } }`;
const FORWARD = `mutation($id: ID!, $c: ID!, $f: [ForwardedField!]!) { forwardAppeal(appealId: $id, creditorId: $c, fields: $f) { id status forwardedTo { id name } forwardedFields } }`;
const PARTNER = `query { partnerAppeals(first: 10) { totalCount edges { node { id reference kind status forwardedAt deadline iin phone email description response } } } }`;
const RESPOND = `mutation($id: ID!, $r: String!) { respondToAppeal(appealId: $id, response: $r) { id response } }`;
const BLOCK = `mutation($id: ID!) { blockSubject(subjectId: $id, reason: "Заявление субъекта") { id } }`;
const UNBLOCK = `mutation($id: ID!) { unblockSubject(subjectId: $id, reason: "Проверка завершена") { id } }`;

/** BINs with a valid check digit (the IIN's rule). */
const BIN_KZ = '050540004455';
const BIN_KZ2 = '080140001233';
const BIN_RU = '110340000121';

async function as(system: System, role: 'OPERATOR' | 'DPO' | 'HR' | 'CHAIRMAN', sub = `${role.toLowerCase()}-1`) {
  const token = await system.tokenFor([role], { sub });
  return (query: string, variables: Record<string, unknown> = {}) => graphql(system.url, query, variables, { token });
}

async function partner(system: System, creditorId: string) {
  const token = await system.tokenFor(['PARTNER'], { sub: `partner-${creditorId.slice(0, 8)}`, creditorId });
  return (query: string, variables: Record<string, unknown> = {}) => graphql(system.url, query, variables, { token });
}

/** Waits until appeals knows the subject's consents (its projection from consents' events). */
async function consentKnown(system: System, appealId: string) {
  await eventually(
    async () => (await system.db('appeals').selectFrom('transfer_consents').select('consent_id').where('appeal_id', '=', appealId).execute()).length > 0,
    15_000,
    'consent projected',
  );
}

/** A consent withdrawal, as consents publishes it (signed with its key). */
async function withdraw(system: System, subjectId: string) {
  const consent = await system.db('consents').selectFrom('consents').select('id').where('subject_id', '=', subjectId).executeTakeFirstOrThrow();
  const envelope = EventSigner.fromKey('consents', system.eventKeys.consents.privateJwk).sign(
    buildEnvelope({
      type: 'consent.withdrawn',
      source: 'consents',
      actor: { id: 'dpo-1', roles: ['DPO'] },
      subjectId,
      data: { consentId: consent.id, templateCode: 'ANNEX2_APPLICANT' },
    }),
  );
  const nc = await connect({ servers: system.options.natsUrl });
  try {
    await nc.jetstream().publish(natsSubject(system.prefix, 'consent.withdrawn'), JSON.stringify(envelope), { msgID: envelope.id });
  } finally {
    await nc.close();
  }
}

describe('the operator’s worklist', () => {
  test('a page that shows contact data records that read, written inline or in a fragment; totalCount in a fragment is counted', async ({ system }) => {
    for (let i = 0; i < 3; i += 1) await graphql(system.url, SUBMIT, { input: form({ iin: makeIin('1985-02-02', 'F', i + 30) }) });
    const op = await as(system, 'OPERATOR', 'operator-contact');
    // By seq, not by the table's order: the relay marks rows published, and an updated row moves in the heap.
    const recorded = async () =>
      (await system.db('appeals').selectFrom('outbox').select('payload').where('subject', 'like', '%.pd.accessed').orderBy('seq').execute())
        .map((r) => r.payload as { actor: { id: string }; data: { fields: string[] } })
        .filter((p) => p.actor.id === 'operator-contact');
    const pages = [
      ['{ appeals(first: 10) { edges { node { id status } } } }', false],
      ['{ appeals(first: 10) { edges { node { id contact { phone } } } } }', true],
      ['{ appeals(first: 10) { ...page totalCount } } fragment page on AppealConnection { edges { node { ... on Appeal { id contact { email } } } } }', true],
    ] as const;
    for (const [query, withContact] of pages) {
      const before = (await recorded()).length;
      const res = await op(query);
      expect(res.errors).toBeUndefined();
      const records = (await recorded()).slice(before);
      expect(records.length).toBeGreaterThan(0);
      for (const r of records) expect(r.data.fields.includes('phone') && r.data.fields.includes('description'), query).toBe(withContact);
    }
    expect((await op('{ appeals(first: 1) { ...counted } } fragment counted on AppealConnection { totalCount }')).data.appeals.totalCount).toBe(3);
  });

  test('newest first, opaque cursors stable under new inserts, every filter, totalCount; assign and answer through the state machine', async ({ system }) => {
    const ids: string[] = [];
    for (const kind of ['APPEAL', 'COMPLAINT', 'APPEAL', 'SCHEDULE_REQUEST', 'APPEAL']) {
      ids.push((await graphql(system.url, SUBMIT, { input: form({ kind, iin: makeIin('1985-01-01', 'M', ids.length + 10) }) })).data.submitAppeal.appeal.id);
    }
    const op = await as(system, 'OPERATOR');
    const first = await op(LIST, { first: 2 });
    expect(first.errors).toBeUndefined();
    expect(first.data.appeals.totalCount).toBe(5);
    expect(first.data.appeals.edges.map((e: { node: { id: string } }) => e.node.id)).toEqual([ids[4], ids[3]]);
    // A new appeal arrives between two pages: the next page goes on where the first stopped.
    const newer = (await graphql(system.url, SUBMIT, { input: form({ iin: makeIin('1985-01-01', 'M', 99) }) })).data.submitAppeal.appeal.id;
    const second = await op(LIST, { first: 2, after: first.data.appeals.pageInfo.endCursor });
    expect(second.data.appeals.edges.map((e: { node: { id: string } }) => e.node.id)).toEqual([ids[2], ids[1]]);
    const rest = await op(LIST, { first: 10, after: second.data.appeals.pageInfo.endCursor });
    expect(rest.data.appeals.edges.map((e: { node: { id: string } }) => e.node.id)).toEqual([ids[0]]);
    expect(rest.data.appeals.pageInfo.hasNextPage).toBe(false);
    expect((await op(LIST, { first: 1 })).data.appeals.edges[0].node.id).toBe(newer);

    const kinds = await op(LIST, { filter: { kind: ['APPEAL'] } });
    expect(kinds.data.appeals.totalCount).toBe(4);
    const ref = (await op(LIST, { first: 1, after: first.data.appeals.edges[0].cursor })).data.appeals.edges[0].node.reference;
    expect((await op(LIST, { filter: { reference: ref } })).data.appeals.edges.map((e: { node: { id: string } }) => e.node.id)).toEqual([ids[3]]);
    expect((await op(LIST, { filter: { overdue: true } })).data.appeals.totalCount).toBe(0);

    expect((await op(ASSIGN, { id: ids[0], who: 'operator-2' })).data.assignAppeal.assignee).toBe('operator-2');
    expect((await op(LIST, { filter: { assignee: 'operator-2' } })).data.appeals.edges.map((e: { node: { id: string } }) => e.node.id)).toEqual([ids[0]]);
    // NEW → ANSWERED is not a move of the workflow.
    expect((await op(ANSWER, { id: ids[0], a: 'Ответ' })).errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', reason: 'TRANSITION_NOT_ALLOWED' });
    await op(MOVE, { id: ids[0], s: 'IN_PROGRESS' });
    const answered = await op(ANSWER, { id: ids[0], a: 'Палата направила запрос коллектору.' });
    expect(answered.data.answerAppeal).toEqual({ id: ids[0], status: 'ANSWERED', answer: 'Палата направила запрос коллектору.' });
    const stored = await system.db('appeals').selectFrom('appeals').select('answer_enc').where('id', '=', ids[0]!).executeTakeFirstOrThrow();
    expect(stored.answer_enc).not.toContain('коллектору');
    expect((await op(LIST, { filter: { status: ['ANSWERED'] } })).data.appeals.totalCount).toBe(1);
    // HR's purpose does not cover applicants' appeals.
    expect((await (await as(system, 'HR'))(LIST)).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    await eventually(
      async () => {
        const rows = await system.db('audit').selectFrom('audit_log').select('event_type').execute();
        const types = rows.map((r) => r.event_type);
        return types.includes('appeal.assigned') && types.includes('appeal.answered');
      },
      15_000,
      'assign and answer in the audit',
    );
  });

  test("a blocked subject's appeals are listed for the DPO only and never move", async ({ system }) => {
    const { subjectId, appealId } = await intakeSubject(system);
    const dpo = await as(system, 'DPO');
    const op = await as(system, 'OPERATOR');
    await dpo(BLOCK, { id: subjectId });
    await eventually(
      async () => (await system.db('appeals').selectFrom('blocked_subjects').select('subject_id').execute()).length === 1,
      15_000,
      'block applied',
    );
    expect((await op(LIST)).data.appeals.totalCount).toBe(0);
    expect((await dpo(LIST)).data.appeals.edges.map((e: { node: { id: string } }) => e.node.id)).toEqual([appealId]);
    expect((await dpo(ASSIGN, { id: appealId, who: 'x' })).errors?.[0]?.extensions?.code).toBe('SUBJECT_BLOCKED');
  });
});

describe('creditors, forwarding and the partner view', () => {
  test('a creditor is registered with a checked BIN and an ISO country; bad fields all at once', async ({ system }) => {
    const dpo = await as(system, 'DPO');
    const bad = await dpo(CREDITOR, { input: { bin: '050540004456', name: 'X', country: 'XX' } });
    expect(bad.errors?.map((e) => e.extensions?.field).sort()).toEqual(['bin', 'country', 'name']);
    const ok = await dpo(CREDITOR, { input: { bin: BIN_KZ, name: 'ТОО «Кредит Плюс»', country: 'kz' } });
    expect(ok.data.registerCreditor).toMatchObject({ bin: BIN_KZ, country: 'KZ' });
    expect((await dpo(CREDITOR, { input: { bin: BIN_KZ, name: 'Другое', country: 'KZ' } })).errors?.[0]?.extensions?.code).toBe('CONFLICT');
    expect((await (await as(system, 'OPERATOR'))(`{ creditors { id bin } }`)).data.creditors).toEqual([{ id: ok.data.registerCreditor.id, bin: BIN_KZ }]);
    expect((await (await as(system, 'OPERATOR'))(CREDITOR, { input: { bin: BIN_KZ2, name: 'Y Y', country: 'KZ' } })).errors?.[0]?.extensions?.code).toBe(
      'FORBIDDEN',
    );
  });

  test('withdrawing the consent an appeal was given with takes that appeal out of the view and out of forwarding, though other consents stand', {
    timeout: 120_000,
  }, async ({ system }) => {
    const dpo = await as(system, 'DPO');
    const op = await as(system, 'OPERATOR');
    const creditor = (await dpo(CREDITOR, { input: { bin: BIN_KZ, name: 'ТОО «А»', country: 'KZ' } })).data.registerCreditor.id;
    const first = await intakeSubject(system);
    const second = await intakeSubject(system, { iin: first.input.iin, kind: 'COMPLAINT' });
    expect(second.subjectId).toBe(first.subjectId);
    for (const { appealId } of [first, second]) {
      await consentKnown(system, appealId);
      await op(MOVE, { id: appealId, s: 'IN_PROGRESS' });
      expect((await op(FORWARD, { id: appealId, c: creditor, f: ['PHONE'] })).errors).toBeUndefined();
    }
    const view = await partner(system, creditor);
    const visible = async () => (await view(PARTNER)).data.partnerAppeals.edges.map((e: { node: { id: string } }) => e.node.id).sort();
    expect(await visible()).toEqual([first.appealId, second.appealId].sort());

    const consent = await system.db('consents').selectFrom('consents').select('id').where('appeal_id', '=', first.appealId).executeTakeFirstOrThrow();
    const withdrawn = await dpo(`mutation($id: ID!) { withdrawConsent(consentId: $id, reason: "Заявление субъекта") { id status } }`, { id: consent.id });
    expect(withdrawn.errors).toBeUndefined();
    await eventually(async () => (await visible()).length === 1, 15_000, 'the first appeal left the view');
    expect(await visible()).toEqual([second.appealId]);
    expect((await view(RESPOND, { id: first.appealId, r: 'x' })).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    // Nor can it be forwarded again, to anyone, while the second appeal's consent still allows its own.
    await op(MOVE, { id: first.appealId, s: 'IN_PROGRESS' });
    expect((await op(FORWARD, { id: first.appealId, c: creditor, f: ['EMAIL'] })).errors?.[0]?.extensions?.code).toBe('CONSENT_REQUIRED');
  });

  test('forwarding is a TRANSFER of the chosen fields; partners see only their own, and block, withdrawal and erasure close the view', {
    timeout: 120_000,
  }, async ({ system }) => {
    const dpo = await as(system, 'DPO');
    const op = await as(system, 'OPERATOR');
    const creditorA = (await dpo(CREDITOR, { input: { bin: BIN_KZ, name: 'ТОО «А»', country: 'KZ' } })).data.registerCreditor.id;
    const creditorB = (await dpo(CREDITOR, { input: { bin: BIN_KZ2, name: 'ТОО «Б»', country: 'KZ' } })).data.registerCreditor.id;
    const abroad = (await dpo(CREDITOR, { input: { bin: BIN_RU, name: 'ООО «Зарубеж»', country: 'RU' } })).data.registerCreditor.id;
    const { subjectId, appealId, input } = await intakeSubject(system, { kind: 'SCHEDULE_REQUEST' });
    await consentKnown(system, appealId);
    await op(MOVE, { id: appealId, s: 'IN_PROGRESS' });

    const cross = await op(FORWARD, { id: appealId, c: abroad, f: ['PHONE'] });
    expect(cross.errors?.[0]?.extensions).toMatchObject({ code: 'TRANSFER_FORBIDDEN', reason: 'CROSS_BORDER' });
    const forwarded = await op(FORWARD, { id: appealId, c: creditorA, f: ['IIN', 'PHONE'] });
    expect(forwarded.errors).toBeUndefined();
    expect(forwarded.data.forwardAppeal).toMatchObject({ status: 'FORWARDED', forwardedTo: { id: creditorA }, forwardedFields: ['IIN', 'PHONE'] });

    const a = await partner(system, creditorA);
    const b = await partner(system, creditorB);
    const viewA = await eventually(
      async () => {
        const res = await a(PARTNER);
        const node = res.data?.partnerAppeals.edges[0]?.node;
        return node?.iin ? res : null;
      },
      15_000,
      'the partner sees the IIN once subjects knows the grant',
    );
    expect(viewA.data.partnerAppeals.totalCount).toBe(1);
    expect(viewA.data.partnerAppeals.edges[0].node).toMatchObject({
      id: appealId,
      kind: 'SCHEDULE_REQUEST',
      status: 'FORWARDED',
      iin: input.iin,
      phone: '+77011234567',
      email: null,
      description: null,
    });
    // Another creditor sees nothing and cannot reach in.
    expect((await b(PARTNER)).data.partnerAppeals).toMatchObject({ totalCount: 0, edges: [] });
    expect((await b(RESPOND, { id: appealId, r: 'x' })).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await b(`query($id: ID!) { appeal(id: $id) { id } }`, { id: appealId })).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await b(`query($id: ID!) { subject(id: $id) { id } }`, { id: subjectId })).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const probes = await system.db('appeals').selectFrom('outbox').select('payload').execute();
    const scoped = probes
      .map((r) => r.payload as { type: string; data: { reason?: string; creditorId?: string } })
      .filter((p) => p.type === 'access.denied' && p.data.reason === 'SCOPE');
    expect(scoped.length).toBeGreaterThanOrEqual(2);
    // Each refusal names the creditor that probed.
    expect(scoped.every((p) => p.data.creditorId === creditorB)).toBe(true);

    // The creditor answers; the operator reads it.
    expect((await a(RESPOND, { id: appealId, r: 'График: 6 платежей по 50 000 тг' })).data.respondToAppeal.response).toBe('График: 6 платежей по 50 000 тг');
    expect((await op(`query($id: ID!) { appeal(id: $id) { partnerResponse } }`, { id: appealId })).data.appeal.partnerResponse).toBe(
      'График: 6 платежей по 50 000 тг',
    );
    // Reads by the partner are recorded as transfers of the forwarded fields.
    await eventually(
      async () => {
        const rows = await system.db('audit').selectFrom('audit_log').select(['event_type', 'operation', 'details', 'creditor_id']).execute();
        return rows.some(
          (r) =>
            r.event_type === 'pd.accessed' && r.operation === 'TRANSFER' && r.creditor_id === creditorA && JSON.stringify(r.details).includes('partner_appeal'),
        );
      },
      15_000,
      "partner reads audited with the creditor's id",
    );
    // And the other creditor's probes are in the audit as SCOPE refusals with its id.
    await eventually(
      async () => {
        const rows = await system
          .db('audit')
          .selectFrom('audit_log')
          .select(['event_type', 'details', 'creditor_id'])
          .where('event_type', '=', 'access.denied')
          .execute();
        return rows.filter((r) => r.creditor_id === creditorB && JSON.stringify(r.details).includes('SCOPE')).length >= 2;
      },
      15_000,
      "the probes audited with the creditor's id",
    );

    // A block closes the view at once; unblocking opens it again.
    await dpo(BLOCK, { id: subjectId });
    await eventually(async () => (await a(PARTNER)).data.partnerAppeals.totalCount === 0, 15_000, 'blocked: view closed');
    expect((await a(RESPOND, { id: appealId, r: 'ещё' })).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await op(FORWARD, { id: appealId, c: creditorA, f: ['PHONE'] })).errors?.[0]?.extensions?.code).toBe('SUBJECT_BLOCKED');
    await dpo(UNBLOCK, { id: subjectId });
    await eventually(async () => (await a(PARTNER)).data.partnerAppeals.totalCount === 1, 15_000, 'unblocked: view open');

    // A withdrawal of the consent closes it, receipted by appeals; no new forwarding.
    await withdraw(system, subjectId);
    await eventually(async () => (await a(PARTNER)).data.partnerAppeals.totalCount === 0, 15_000, 'withdrawn: view closed');
    await op(MOVE, { id: appealId, s: 'IN_PROGRESS' });
    expect((await op(FORWARD, { id: appealId, c: creditorA, f: ['PHONE'] })).errors?.[0]?.extensions?.code).toBe('CONSENT_REQUIRED');
    await eventually(
      async () => {
        const rows = await system.db('appeals').selectFrom('outbox').select('payload').execute();
        return rows.some((r) => (r.payload as { type: string }).type === 'consent.withdrawal_applied');
      },
      15_000,
      'appeals receipt for the withdrawal',
    );
  });

  test('an erasure closes the partner view', { timeout: 90_000 }, async ({ system }) => {
    const dpo = await as(system, 'DPO');
    const op = await as(system, 'OPERATOR');
    const creditor = (await dpo(CREDITOR, { input: { bin: BIN_KZ, name: 'ТОО «А»', country: 'KZ' } })).data.registerCreditor.id;
    const { subjectId, appealId } = await intakeSubject(system);
    await consentKnown(system, appealId);
    await op(MOVE, { id: appealId, s: 'IN_PROGRESS' });
    await op(FORWARD, { id: appealId, c: creditor, f: ['DESCRIPTION'] });
    const p = await partner(system, creditor);
    await eventually(async () => (await p(PARTNER)).data.partnerAppeals.totalCount === 1, 15_000, 'forwarded');
    const act = (
      await dpo(`mutation($id: ID!) { proposeErasure(subjectId: $id, method: DESTROY, grounds: "Заявление субъекта № 3") { id } }`, { id: subjectId })
    ).data.proposeErasure.id;
    await (await as(system, 'CHAIRMAN'))(`mutation($id: ID!) { approveErasure(actId: $id) { id } }`, { id: act });
    await eventually(async () => (await p(PARTNER)).data.partnerAppeals.totalCount === 0, 20_000, 'erased: view closed');
    expect((await p(RESPOND, { id: appealId, r: 'x' })).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });
});
