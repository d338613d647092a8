import { createHash } from 'node:crypto';
import { addWorkingDays, calendarFromEnv, kazakhstanToday, type Role } from '@pdp/shared';
import { eventually } from '@pdp/shared/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditHead, entriesAfter, quiescent } from '../support/audit';
import { graphql } from '../support/client';
import { startSystem } from '../support/fixtures';
import { intakeSubject } from '../support/intake';
import type { System } from '../support/system';

const ENTRIES = `query($filter: AuditFilter, $first: Int, $after: String) {
  auditEntries(filter: $filter, first: $first, after: $after) {
    edges { cursor node { seq type operation outcome source actorId subjectId purpose } } pageInfo { hasNextPage endCursor } } }`;
const INCIDENT = 'id rule actorId status notifyBy overdue acknowledgedBy reportedAt reportedBy reference closedAt closeNote evidence';
const REPORT = `query($from: String!, $to: String!) { controlReport(from: $from, to: $to) {
  from to operations { operation count } deniedAttempts incidentsOpened incidentsReportedLate incidents { id rule reportedInTime }
  rightsRequests rightsRequestsOverdue erasureActsCompleted consentWithdrawals appealsReceived appealsOverdue chainValid
  chainVerification { valid entriesChecked } } }`;

describe('search, incidents and the control report', () => {
  let system: System;
  let subjectId: string;
  const call = async (query: string, variables: Record<string, unknown>, role: Role, sub = `${role.toLowerCase()}-1`) =>
    graphql(system.url, query, variables, { token: await system.tokenFor([role], { sub }) });

  beforeAll(async () => {
    system = await startSystem({ audit: { checkpointEvery: 5 } });
    ({ subjectId } = await intakeSubject(system));
  });
  afterAll(async () => {
    await system.destroy();
  });

  it('auditEntries: by subject, actor, operation, source and period, oldest first, cursor-paged', async () => {
    await call('query($id: ID!) { subject(id: $id) { id } }', { id: subjectId }, 'DPO', 'dpo-search');
    await quiescent(system);
    const bySubject = await call(ENTRIES, { filter: { subjectId }, first: 2 }, 'AUDITOR');
    expect(bySubject.data.auditEntries.edges.map((e: { node: { type: string } }) => e.node.type)).toEqual(['subject.registered', 'subject.appeal_linked']);
    expect(bySubject.data.auditEntries.pageInfo.hasNextPage).toBe(true);
    const next = await call(ENTRIES, { filter: { subjectId }, first: 100, after: bySubject.data.auditEntries.pageInfo.endCursor }, 'AUDITOR');
    const rest = next.data.auditEntries.edges.map((e: { node: { seq: string; subjectId: string } }) => e.node);
    expect(rest.length).toBeGreaterThan(0);
    expect(rest.every((n: { subjectId: string }) => n.subjectId === subjectId)).toBe(true);
    expect(BigInt(rest[0].seq)).toBeGreaterThan(BigInt(bySubject.data.auditEntries.edges[1].node.seq));

    const byActor = await call(ENTRIES, { filter: { actorId: 'dpo-search', operation: 'ACCESS', source: 'subjects' } }, 'DPO');
    expect(byActor.data.auditEntries.edges.map((e: { node: object }) => e.node)).toEqual([
      expect.objectContaining({
        type: 'pd.accessed',
        operation: 'ACCESS',
        outcome: 'ALLOWED',
        source: 'subjects',
        actorId: 'dpo-search',
        subjectId,
        purpose: 'SUBJECT_RIGHTS',
      }),
    ]);
    const today = kazakhstanToday();
    const inPeriod = await call(ENTRIES, { filter: { from: today, to: new Date(Date.now() + 86_400_000).toISOString() }, first: 1000 }, 'AUDITOR');
    expect(inPeriod.data.auditEntries.edges.length).toBeGreaterThan(5);
    const before = await call(ENTRIES, { filter: { to: '2020-01-01' } }, 'AUDITOR');
    expect(before.data.auditEntries).toEqual({ edges: [], pageInfo: { hasNextPage: false, endCursor: null } });

    const badCursor = await call(ENTRIES, { after: Buffer.from('audit:1:x').toString('base64url') }, 'AUDITOR');
    expect(badCursor.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'after' });
    const badOperation = await call(ENTRIES, { filter: { operation: 'PEEK', from: 'yesterday' } }, 'AUDITOR');
    expect(badOperation.errors?.map((e) => e.extensions?.field).sort()).toEqual(['from', 'operation']);
    expect((await call(ENTRIES, {}, 'OPERATOR')).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');

    const cps = await call('{ auditCheckpoints(first: 2) { seq keyId origin } auditKeys { keyId algorithm publicKeyPem signing } }', {}, 'AUDITOR');
    expect(cps.data.auditCheckpoints).toEqual([
      { seq: '5', keyId: 'audit-test-1', origin: `pdp.audit/${system.prefix}` },
      { seq: '10', keyId: 'audit-test-1', origin: `pdp.audit/${system.prefix}` },
    ]);
    expect(cps.data.auditKeys).toEqual([{ keyId: 'audit-test-1', algorithm: 'Ed25519', publicKeyPem: system.auditKey.publicKeyPem, signing: true }]);
  });

  it('an incident goes OPEN → ACKNOWLEDGED → REPORTED → CLOSED, each step in the chain; overdue ones are listed', async () => {
    for (let i = 0; i < 5; i += 1)
      await call('mutation($id: ID!) { blockSubject(subjectId: $id, reason: "looking around") { id } }', { id: subjectId }, 'OPERATOR', 'op-curious');
    const raised = await eventually(
      async () => {
        const res = await call(`{ incidents(status: [OPEN]) { ${INCIDENT} } }`, {}, 'DPO');
        return res.data.incidents.find((i: { actorId: string }) => i.actorId === 'actor:op-curious' || i.actorId === 'op-curious');
      },
      15_000,
      'REPEATED_DENIALS for op-curious',
    );
    const notifyBy = addWorkingDays(new Date(), 1, calendarFromEnv(undefined, undefined)).toISOString().slice(0, 10);
    expect(raised).toMatchObject({ rule: 'REPEATED_DENIALS', status: 'OPEN', notifyBy, overdue: false });
    expect(raised.evidence).toHaveLength(5);
    const id = raised.id;

    const step = (mutation: string, role: Role = 'DPO') => call(`mutation($id: ID!) { ${mutation} { ${INCIDENT} } }`, { id }, role, 'dpo-incidents');
    expect((await step('acknowledgeIncident(id: $id)', 'OPERATOR')).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await step('closeIncident(id: $id, note: "nothing")')).errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT' });
    expect((await step('acknowledgeIncident(id: $id)')).data.acknowledgeIncident).toMatchObject({ status: 'ACKNOWLEDGED', acknowledgedBy: 'dpo-incidents' });
    expect((await step('reportIncident(id: $id, reference: "  ")')).errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'reference' });
    const reported = (await step('reportIncident(id: $id, reference: "No. 12-3/456")')).data.reportIncident;
    expect(reported).toMatchObject({ status: 'REPORTED', reportedBy: 'dpo-incidents', reference: 'No. 12-3/456', overdue: false });
    expect((await step('reportIncident(id: $id, reference: "again")')).errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT' });
    expect((await step('closeIncident(id: $id, note: "Notified; access revoked")')).data.closeIncident).toMatchObject({
      status: 'CLOSED',
      closeNote: 'Notified; access revoked',
    });

    await quiescent(system);
    const changes = (await entriesAfter(system, '0')).filter(
      (e) => e.event_type.startsWith('incident.') && (e.details as { incidentId: string }).incidentId === id,
    );
    expect(changes.map((e) => [e.event_type, (e.details as { to?: string }).to ?? null])).toEqual([
      ['incident.raised', null],
      ['incident.status_changed', 'ACKNOWLEDGED'],
      ['incident.status_changed', 'REPORTED'],
      ['incident.status_changed', 'CLOSED'],
    ]);
    // The reference is bound by its digest, not copied into the chain.
    expect(changes[2]!.details).toMatchObject({ referenceSha256: createHash('sha256').update('No. 12-3/456').digest('hex') });
    expect(JSON.stringify(changes)).not.toContain('12-3/456');

    // One raised (and never reported) ten days ago is overdue.
    const old = new Date(Date.now() - 10 * 86_400_000);
    await system
      .db('audit')
      .insertInto('incidents')
      .values({
        rule: 'MASS_READ',
        actor_id: 'op-old',
        incident_key: 'actor:op-old',
        detected_at: old,
        details: '{}',
        notify_by: kazakhstanToday(new Date(old.getTime() + 86_400_000)),
      } as never)
      .execute();
    const overdue = await call(`{ overdueIncidents { ${INCIDENT} } }`, {}, 'AUDITOR');
    expect(overdue.data.overdueIncidents).toEqual([expect.objectContaining({ rule: 'MASS_READ', actorId: 'op-old', status: 'OPEN', overdue: true })]);
  });

  it('the control report counts the period, holders included, and prints in Kazakh and Russian', async () => {
    await call(
      'mutation($input: RectificationInput!) { requestRectification(input: $input) { id } }',
      { input: { subjectId, field: 'phone', newValue: '+7 702 111 22 33', documents: ['Statement No. 17'] } },
      'DPO',
    );
    const { subjectId: erased } = await intakeSubject(system);
    const act = (
      await call('mutation($id: ID!) { proposeErasure(subjectId: $id, method: DESTROY, grounds: "Collected unlawfully") { id } }', { id: erased }, 'DPO')
    ).data.proposeErasure;
    await call('mutation($id: ID!) { approveErasure(actId: $id) { id } }', { id: act.id }, 'CHAIRMAN');
    await eventually(
      async () => (await call('query($id: ID!) { erasureAct(id: $id) { status } }', { id: act.id }, 'AUDITOR')).data.erasureAct.status === 'COMPLETED',
      20_000,
      'act completed',
    );
    await system
      .db('consents')
      .updateTable('consents')
      .set({ withdrawn_at: new Date() } as never)
      .where('subject_id', '=', subjectId)
      .execute();
    await quiescent(system);

    const today = kazakhstanToday();
    const report = await call(REPORT, { from: kazakhstanToday(new Date(Date.now() - 86_400_000)), to: today }, 'CHAIRMAN');
    expect(report.errors).toBeUndefined();
    const r = report.data.controlReport;
    const count = (op: string) => r.operations.find((o: { operation: string }) => o.operation === op)?.count ?? 0;
    expect(count('COLLECT')).toBeGreaterThanOrEqual(7); // two intakes (appeal, subject, consent) and the rectification request
    expect(count('DESTROY')).toBeGreaterThanOrEqual(4); // three receipts and the completed act
    expect(count('DENIED')).toBe(r.deniedAttempts);
    expect(r).toMatchObject({
      rightsRequests: 1,
      rightsRequestsOverdue: 0,
      erasureActsCompleted: 1,
      consentWithdrawals: 1,
      // The destroyed person's appeal is gone from appeals, so only the other one is counted (the act is).
      appealsReceived: 1,
      appealsOverdue: 0,
      incidentsOpened: 1,
      incidentsReportedLate: 0,
      chainValid: true,
    });
    expect(r.incidents).toEqual([expect.objectContaining({ rule: 'REPEATED_DENIALS', reportedInTime: true })]);
    // The incident raised ten days ago is in its own period, and late.
    const older = await call(
      REPORT,
      { from: kazakhstanToday(new Date(Date.now() - 12 * 86_400_000)), to: kazakhstanToday(new Date(Date.now() - 2 * 86_400_000)) },
      'AUDITOR',
    );
    expect(older.data.controlReport).toMatchObject({ incidentsOpened: 1, incidentsReportedLate: 1, incidents: [{ rule: 'MASS_READ', reportedInTime: false }] });

    const doc = async (locale: 'KK' | 'RU') =>
      (
        await call(
          `query($from: String!, $to: String!) { controlReport(from: $from, to: $to) { document(locale: ${locale}) } }`,
          { from: today, to: today },
          'DPO',
        )
      ).data.controlReport.document as string;
    const [kk, ru] = await Promise.all([doc('KK'), doc('RU')]);
    expect(ru).toMatch(/^<!doctype html>\n<html lang="ru">/);
    expect(ru).toContain('Отчёт о контроле мер защиты персональных данных');
    expect(ru).toContain('Цепочка записей цела');
    expect(kk).toMatch(/<html lang="kk">/);
    expect(kk).toContain('Дербес деректерді қорғау шараларын бақылау туралы есеп');
    expect(kk).toMatch(/Аяқталған жою және иесіздендіру актілері<\/th><td>1</);
    // The report points the inspector at the map of every clause to its code and tests.
    for (const printed of [kk, ru]) expect(printed).toContain('docs/regulation-map.md');

    expect((await call(REPORT, { from: today, to: today }, 'OPERATOR')).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await call(REPORT, { from: today, to: '2020-01-01' }, 'AUDITOR')).errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'to' });
    expect((await call(REPORT, { from: '25.11.2026', to: today }, 'AUDITOR')).errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'from' });
    expect(await auditHead(system)).not.toBe('0');
  });

  it('an incident about a DPO’s own refusals is decided by another DPO: OWN_INCIDENT, in Kazakh and Russian', async () => {
    // Five refusals of one DPO (an erasure act only the chairman approves): an incident about that DPO.
    for (let i = 0; i < 5; i += 1) await call('mutation { approveErasure(actId: "00000000-0000-4000-8000-000000000001") { id } }', {}, 'DPO', 'dpo-self');
    const raised = await eventually(
      async () => {
        const res = await call(`{ incidents(status: [OPEN]) { ${INCIDENT} } }`, {}, 'DPO', 'dpo-other');
        return res.data.incidents.find((i: { actorId: string; rule: string }) => i.actorId === 'dpo-self' && i.rule === 'REPEATED_DENIALS');
      },
      15_000,
      'REPEATED_DENIALS for dpo-self',
    );
    const acknowledge = (sub: string, lang: string) =>
      system
        .tokenFor(['DPO'], { sub })
        .then((token) =>
          graphql(
            system.url,
            `mutation($id: ID!) { acknowledgeIncident(id: $id) { ${INCIDENT} } }`,
            { id: raised.id },
            { token, headers: { 'accept-language': lang } },
          ),
        );
    const [kk, ru] = [(await acknowledge('dpo-self', 'kk')).errors?.[0], (await acknowledge('dpo-self', 'ru')).errors?.[0]];
    expect(kk).toMatchObject({
      message: 'Сіздің өз әрекеттеріңіз туралы инцидентті басқа қызметкер қабылдайды, хабарлайды және жабады',
      extensions: { code: 'FORBIDDEN', reason: 'OWN_INCIDENT' },
    });
    expect(ru).toMatchObject({
      message: 'Инцидент о ваших собственных действиях принимает, сообщает и закрывает другой сотрудник',
      extensions: { code: 'FORBIDDEN', reason: 'OWN_INCIDENT' },
    });
    expect((await acknowledge('dpo-other', 'ru')).data.acknowledgeIncident).toMatchObject({ status: 'ACKNOWLEDGED', acknowledgedBy: 'dpo-other' });
  });
});
