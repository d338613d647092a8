import { eventually, makeIin } from '@pdp/shared/testing';
import { describe } from 'vitest';
import { expect, test, type Gw } from '../support/fixtures';
import { intakeSubject } from '../support/intake';
import type { System } from '../support/system';

const REPORT = `query($id: ID!) { accessReport(subjectId: $id) {
  subjectId held status categories purposes { code state } sources { code } methods storagePeriod
  subjectsHolding { service records dataItems } appealsHolding { service records dataItems processingPeriod }
  consentsHolding { service records dataItems } } }`;
const BLOCK = `mutation($id: ID!, $r: String!) { blockSubject(subjectId: $id, reason: $r) { id status } }`;
const UNBLOCK = `mutation($id: ID!, $r: String!) { unblockSubject(subjectId: $id, reason: $r) { id status } }`;
const RECEIPTS = `query($id: ID!) { subject(id: $id) { status blockReceipts { service blocked } } }`;
const PROPOSE = `mutation($id: ID!, $m: ErasureMethod!) { proposeErasure(subjectId: $id, method: $m, grounds: "Collected unlawfully: complaint No. 5") { id status method receipts { service completedAt } } }`;
const APPROVE = `mutation($id: ID!) { approveErasure(actId: $id) { id status } }`;
const ACT = `query($id: ID!) { erasureAct(id: $id) { id subjectId status method completedAt receipts { service completedAt } } }`;

async function auditTypes(system: System, subjectId: string) {
  const rows = await system
    .db('audit')
    .selectFrom('audit_log')
    .select(['event_type', 'source', 'operation', 'details'])
    .where('subject_id', '=', subjectId)
    .execute();
  return rows;
}

describe('6.1.1 access report', () => {
  test('DPO, AUDITOR and the CHAIRMAN get one federated answer, itself recorded; others are refused', async ({ system, gw }) => {
    const { subjectId } = await intakeSubject(system);
    const res = await gw(REPORT, { id: subjectId }, { as: 'AUDITOR' });
    expect(res.errors).toBeUndefined();
    const report = res.data.accessReport;
    expect(report).toMatchObject({
      subjectId,
      held: true,
      status: 'ACTIVE',
      categories: ['APPLICANT'],
      purposes: [{ code: 'APPEAL_HANDLING', state: 'ACTIVE' }],
      sources: [{ code: 'WEB_FORM_ANNEX_3' }],
    });
    expect(report.methods[0]).toMatch(/collectors\.kz/);
    expect(report.storagePeriod).toMatch(/Председателя/);
    expect(report.subjectsHolding).toMatchObject({ service: 'subjects' });
    expect(report.subjectsHolding.records).toBeGreaterThan(0);
    expect(report.appealsHolding).toMatchObject({ service: 'appeals', records: 1 });
    expect(report.consentsHolding).toMatchObject({ service: 'consents', records: 1 });

    // The CHAIRMAN decides erasure acts on it: categories, sources, holdings — no PD values in it.
    expect((await gw(REPORT, { id: subjectId }, { as: 'CHAIRMAN' })).errors).toBeUndefined();
    for (const role of ['OPERATOR', 'PARTNER'] as const) {
      const denied = await gw(REPORT, { id: subjectId }, { as: role });
      expect(denied.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    }
    await eventually(
      async () => {
        const rows = await auditTypes(system, subjectId);
        const reads = rows.filter((r) => r.event_type === 'pd.accessed' && (r.details as { resource: string }).resource === 'access_report');
        return new Set(reads.map((r) => r.source)).size === 3;
      },
      15_000,
      'the report recorded by every service',
    );
  });
});

describe('6.1.2 rectification', () => {
  test('a documented request, reviewed by the DPO, is applied where the field lives, with history', async ({ system, gw }) => {
    const { subjectId, appealId } = await intakeSubject(system);
    const request = `mutation($input: RectificationInput!) { requestRectification(input: $input) { id status field deadline documents } }`;
    const bad = await gw(request, { input: { subjectId, field: 'phone', newValue: '+7 916 000 00 00', documents: ['Passport No. 1'] } }, { as: 'OPERATOR' });
    expect(bad.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'newValue' });
    const noDocs = await gw(request, { input: { subjectId, field: 'phone', newValue: '+77021112233', documents: [] } }, { as: 'OPERATOR' });
    expect(noDocs.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'documents' });

    const created = await gw(
      request,
      { input: { subjectId, field: 'phone', newValue: '+7 702 111 22 33', documents: ['Statement of 2026-11-20, No. 17'] } },
      { as: 'OPERATOR' },
    );
    expect(created.data.requestRectification).toMatchObject({ status: 'PENDING', field: 'phone' });
    const id = created.data.requestRectification.id;
    const review = `mutation($id: ID!) { reviewRectification(requestId: $id, approve: true, note: "documents checked") { id status } }`;
    expect((await gw(review, { id }, { as: 'OPERATOR' })).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await gw(review, { id }, { as: 'DPO' })).data.reviewRectification.status).toBe('APPROVED');

    await eventually(
      async () => {
        const res = await gw(`query($id: ID!) { appeal(id: $id) { contact { phone } } }`, { id: appealId }, { as: 'DPO' });
        return res.data.appeal.contact.phone === '+77021112233';
      },
      15_000,
      'phone corrected in appeals',
    );
    await eventually(
      async () => {
        const res = await gw(`query($id: ID!) { subject(id: $id) { rectifications { status appliedAt } } }`, { id: subjectId }, { as: 'DPO' });
        return res.data.subject.rectifications[0].status === 'APPLIED';
      },
      15_000,
      'request marked applied',
    );
    expect(await system.db('appeals').selectFrom('contact_history').select(['field', 'previous_enc']).execute()).toMatchObject([{ field: 'phone' }]);

    // The IIN lives in subjects and is corrected there at once.
    const newIin = makeIin('1988-09-09', 'F', 5);
    const iinReq = await gw(request, { input: { subjectId, field: 'iin', newValue: newIin, documents: ['ID card 012345678'] } }, { as: 'DPO' });
    await gw(review, { id: iinReq.data.requestRectification.id }, { as: 'DPO' });
    const found = await gw(`query($iin: String!) { subjectByIin(iin: $iin) { id iin } }`, { iin: newIin }, { as: 'DPO' });
    expect(found.data.subjectByIin).toEqual({ id: subjectId, iin: newIin });
  });
});

describe('6.1.3 blocking', () => {
  test('every holder stops processing and confirms; unblocking restores it', async ({ system, gw }) => {
    const { subjectId, appealId } = await intakeSubject(system);
    expect((await gw(BLOCK, { id: subjectId, r: 'Processing conditions violated' }, { as: 'OPERATOR' })).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');

    const blocked = await gw(BLOCK, { id: subjectId, r: 'Processing conditions violated' }, { as: 'DPO' });
    expect(blocked.data.blockSubject).toEqual({ id: subjectId, status: 'BLOCKED' });
    expect((await gw(BLOCK, { id: subjectId, r: 'again' }, { as: 'DPO' })).errors?.[0]?.extensions?.code).toBe('CONFLICT');
    await eventually(
      async () => {
        const res = await gw(RECEIPTS, { id: subjectId }, { as: 'DPO' });
        const r = res.data.subject.blockReceipts;
        return r.length === 3 && r.every((x: { blocked: boolean }) => x.blocked);
      },
      15_000,
      'three block receipts',
    );
    expect(await system.db('appeals').selectFrom('blocked_subjects').select('subject_id').execute()).toEqual([{ subject_id: subjectId }]);
    expect(await system.db('consents').selectFrom('blocked_subjects').select('subject_id').execute()).toEqual([{ subject_id: subjectId }]);

    // Reads only for DPO and AUDITOR (the CHAIRMAN sees the record, no PD value); no workflow moves; no changes.
    expect((await gw(RECEIPTS, { id: subjectId }, { as: 'OPERATOR' })).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const withheld = await gw(`query($id: ID!) { appeal(id: $id) { id } }`, { id: appealId }, { as: 'OPERATOR' });
    expect(withheld.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(withheld.data?.appeal ?? null).toBeNull();
    expect((await gw(`query($id: ID!) { appeal(id: $id) { id } }`, { id: crypto.randomUUID() }, { as: 'OPERATOR' })).data.appeal).toBeNull();
    const chairman = await gw(`query($id: ID!) { subject(id: $id) { id status categories blocks { reason } } }`, { id: subjectId }, { as: 'CHAIRMAN' });
    expect(chairman.errors).toBeUndefined();
    expect(chairman.data.subject).toEqual({
      id: subjectId,
      status: 'BLOCKED',
      categories: ['APPLICANT'],
      blocks: [{ reason: 'Processing conditions violated' }],
    });
    expect((await gw(`query($id: ID!) { subject(id: $id) { iin } }`, { id: subjectId }, { as: 'CHAIRMAN' })).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await gw(`query($id: ID!) { appeal(id: $id) { id } }`, { id: appealId }, { as: 'AUDITOR' })).data.appeal).toEqual({ id: appealId });
    const move = await gw(`mutation($id: ID!) { changeAppealStatus(appealId: $id, status: IN_PROGRESS) { status } }`, { id: appealId }, { as: 'OPERATOR' });
    expect(move.errors?.[0]?.extensions?.code).toBe('SUBJECT_BLOCKED');
    const rect = await gw(
      `mutation($input: RectificationInput!) { requestRectification(input: $input) { id } }`,
      { input: { subjectId, field: 'email', newValue: 'x@y.kz', documents: ['d'] } },
      { as: 'DPO' },
    );
    expect(rect.errors?.[0]?.extensions?.code).toBe('SUBJECT_BLOCKED');

    expect((await gw(UNBLOCK, { id: subjectId, r: 'Violation remedied' }, { as: 'DPO' })).data.unblockSubject.status).toBe('ACTIVE');
    await eventually(
      async () => {
        const res = await gw(RECEIPTS, { id: subjectId }, { as: 'DPO' });
        return res.data.subject.blockReceipts.every((x: { blocked: boolean }) => !x.blocked);
      },
      15_000,
      'three unblock receipts',
    );
    expect((await gw(`query($id: ID!) { appeal(id: $id) { id } }`, { id: appealId }, { as: 'OPERATOR' })).data.appeal).toEqual({ id: appealId });
    const moved = await gw(`mutation($id: ID!) { changeAppealStatus(appealId: $id, status: IN_PROGRESS) { status } }`, { id: appealId }, { as: 'OPERATOR' });
    expect(moved.data.changeAppealStatus.status).toBe('IN_PROGRESS');
    const types = (await auditTypes(system, subjectId)).map((r) => r.event_type);
    expect(types).toEqual(expect.arrayContaining(['subject.blocked', 'subject.unblocked', 'subject.block_applied']));
  });
});

describe('4.6 and 6.1.4 erasure acts', () => {
  async function completed(system: System, gw: Gw, method: 'DESTROY' | 'DEPERSONALIZE') {
    const subject = await intakeSubject(system);
    const proposed = await gw(PROPOSE, { id: subject.subjectId, m: method }, { as: 'DPO' });
    expect(proposed.errors).toBeUndefined();
    const act = proposed.data.proposeErasure;
    expect(act).toMatchObject({ status: 'PROPOSED', method });
    expect((await gw(PROPOSE, { id: subject.subjectId, m: method }, { as: 'DPO' })).errors?.[0]?.extensions?.code).toBe('CONFLICT');
    expect((await gw(APPROVE, { id: act.id }, { as: 'DPO' })).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await gw(APPROVE, { id: act.id }, { as: 'CHAIRMAN' })).data.approveErasure.status).toBe('APPROVED');
    const done = await eventually(
      async () => {
        const res = await gw(ACT, { id: act.id }, { as: 'AUDITOR' });
        return res.data.erasureAct.status === 'COMPLETED' ? res.data.erasureAct : undefined;
      },
      20_000,
      'act completed',
    );
    expect(done.receipts.map((r: { service: string }) => r.service).sort()).toEqual(['appeals', 'consents', 'subjects']);
    expect(done.receipts.every((r: { completedAt: string | null }) => r.completedAt)).toBe(true);
    return { ...subject, actId: act.id };
  }

  test('DESTROY leaves nothing of the person in any database; the audit keeps that it happened', async ({ system, gw }) => {
    const { subjectId, appealId, input } = await completed(system, gw, 'DESTROY');
    const subject = await system.db('subjects').selectFrom('subjects').selectAll().where('id', '=', subjectId).executeTakeFirstOrThrow();
    expect(subject).toMatchObject({ status: 'DESTROYED', iin_enc: null, iin_bidx: null });
    for (const table of ['subject_sources', 'subject_purposes', 'subject_categories', 'blocks', 'rectification_requests'] as const) {
      expect(await system.db('subjects').selectFrom(table).selectAll().where('subject_id', '=', subjectId).execute()).toEqual([]);
    }
    expect(await system.db('appeals').selectFrom('appeals').select('id').where('id', '=', appealId).execute()).toEqual([]);
    expect(await system.db('consents').selectFrom('consents').select('id').execute()).toEqual([]);
    const types = (await auditTypes(system, subjectId)).map((r) => r.event_type);
    expect(types).toEqual(expect.arrayContaining(['erasure.proposed', 'erasure.approved', 'erasure.receipt', 'erasure.completed']));
    const audit = JSON.stringify(await system.db('audit').selectFrom('audit_log').selectAll().execute());
    expect(audit).not.toContain(input.iin);
    // Not even sealed copies stay in the services' outboxes: the events refer to hand-offs, which
    // the outbox keeps only until the recipient stored them, and the erasure removes in any case
    // (tests/e2e/erasure-handoffs.test.ts checks the streams too).
    const outbox = await system.platformDb('appeals').selectFrom('outbox').select(['subject', 'payload']).execute();
    expect(outbox.filter((r) => r.subject.includes('.handoff.'))).toEqual([]);
    const own = outbox
      .map((r) => r.payload as { type: string; data: { appealId?: string; identity?: unknown } })
      .find((p) => p.data.appealId === appealId && p.type === 'appeal.submitted');
    expect(own?.data.identity).toMatchObject({ to: 'subjects', id: appealId });
    expect(JSON.stringify(outbox)).not.toMatch(/eyJ[\w-]+\.[\w-]+\.[\w-]+\.[\w-]+\.[\w-]+/); // no compact JWE
    expect(
      (await gw(`query($id: ID!) { subject(id: $id) { status iin appeals { id } consents { id } } }`, { id: subjectId }, { as: 'DPO' })).data.subject,
    ).toEqual({ status: 'DESTROYED', iin: null, appeals: [], consents: [] });
  });

  test('DEPERSONALIZE keeps statistics but no way back to the person; the same IIN is a new subject', async ({ system, gw }) => {
    const { subjectId, appealId, input } = await completed(system, gw, 'DEPERSONALIZE');
    expect(
      await system.db('subjects').selectFrom('subjects').select(['status', 'iin_enc', 'iin_bidx']).where('id', '=', subjectId).executeTakeFirstOrThrow(),
    ).toEqual({ status: 'DEPERSONALIZED', iin_enc: null, iin_bidx: null });
    expect(await system.db('subjects').selectFrom('subject_purposes').select(['code', 'reference']).where('subject_id', '=', subjectId).execute()).toEqual([
      { code: 'APPEAL_HANDLING', reference: null },
    ]);
    const appeal = await system.db('appeals').selectFrom('appeals').selectAll().where('id', '=', appealId).executeTakeFirstOrThrow();
    expect(appeal).toMatchObject({ kind: 'APPEAL', subject_id: null, reference: null, phone_enc: null, email_enc: null, description_enc: null });
    const consent = await system.db('consents').selectFrom('consents').selectAll().executeTakeFirstOrThrow();
    expect(consent).toMatchObject({ template_code: 'ANNEX2_APPLICANT', subject_id: null, appeal_id: null, ip_enc: null, user_agent_enc: null });

    const again = await intakeSubject(system, { iin: input.iin });
    expect(again.subjectId).not.toBe(subjectId);
  });

  test('the CHAIRMAN can reject; nothing is erased', async ({ system, gw }) => {
    const { subjectId } = await intakeSubject(system);
    const act = (await gw(PROPOSE, { id: subjectId, m: 'DESTROY' }, { as: 'DPO' })).data.proposeErasure;
    // Who proposed it does not decide it, whatever roles their token holds.
    const both = await system.tokenFor(['CHAIRMAN', 'DPO'], { sub: 'dpo-1' });
    for (const decide of [APPROVE, `mutation($id: ID!) { rejectErasure(actId: $id) { status } }`]) {
      expect((await gw(decide, { id: act.id }, { token: both })).errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', reason: 'OWN_PROPOSAL' });
    }
    const rejected = await gw(`mutation($id: ID!) { rejectErasure(actId: $id, note: "grounds not proven") { status } }`, { id: act.id }, { as: 'CHAIRMAN' });
    expect(rejected.data.rejectErasure.status).toBe('REJECTED');
    expect((await gw(APPROVE, { id: act.id }, { as: 'CHAIRMAN' })).errors?.[0]?.extensions?.code).toBe('CONFLICT');
    expect((await system.db('subjects').selectFrom('subjects').select('status').where('id', '=', subjectId).executeTakeFirstOrThrow()).status).toBe('ACTIVE');
  });
});
