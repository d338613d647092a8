import { readFileSync } from 'node:fs';
import { addWorkingDays, calendarFromEnv, kazakhstanToday, registry, type Role } from '@pdp/shared';
import { eventually } from '@pdp/shared/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { entriesAfter, quiescent } from '../support/audit';
import { graphql, type GraphQLResponse } from '../support/client';
import { startSystem } from '../support/fixtures';
import type { System } from '../support/system';

/**
 * Breaches found by people (clause 7.2.2; Law 44-VIII, Order 481), through the gateway: reportBreach
 * opens an incident on the same one-working-day clock as a detected one, reportIncident records what
 * the report to the authorized body stated, the opened incident raises the alert of
 * ops/prometheus/alerts.yml and appears in the control report. Bad input is named field by field in
 * Kazakh or Russian, and nothing is stored.
 */
let system: System;
beforeAll(async () => {
  system = await startSystem();
});
afterAll(async () => {
  await system?.destroy();
});

async function gw(query: string, variables: Record<string, unknown> = {}, as?: Role, locale?: 'kk' | 'ru', sub?: string): Promise<GraphQLResponse> {
  const token = as ? await system.tokenFor([as], { sub: sub ?? `${as.toLowerCase()}-breaches` }) : undefined;
  return graphql(system.url, query, variables, { token, headers: locale ? { 'accept-language': locale } : {} });
}

const INCIDENT = `id rule status actorId detectedAt notifyBy overdue description openedBy affectedSubjects categories
  reportedAt reference breachReport { contactName contactPhone measures subjectNotification }`;
const REPORT_BREACH = `mutation($input: BreachInput!) { reportBreach(input: $input) { ${INCIDENT} } }`;
const REPORT_INCIDENT = `mutation($id: ID!, $reference: String!, $details: BreachReportInput!) {
  reportIncident(id: $id, reference: $reference, details: $details) { ${INCIDENT} } }`;
const DESCRIPTION = 'A printed list of appeals was left in the meeting room overnight';
const DETAILS = {
  contactName: 'Ахметов Серік Болатұлы',
  contactPhone: '+7 (7172) 55-01-02',
  measures: 'The list was collected and shredded; the meeting room is locked after hours',
  subjectNotification: 'Each of the 12 applicants is told by letter within three working days',
};
const incidentsStored = async () => (await system.db('audit').selectFrom('incidents').select('id').execute()).length;
const notifyByOf = (at: Date) => addWorkingDays(at, 1, calendarFromEnv(undefined, undefined)).toISOString().slice(0, 10);

describe('breaches found by people (7.2.2, Law 44-VIII, Order 481)', () => {
  it('7.2.2: reportBreach opens an incident with the one-working-day clock of a detected one, counted from when it was detected', async () => {
    const detectedAt = new Date(Date.now() - 2 * 3600_000);
    const res = await gw(
      REPORT_BREACH,
      { input: { description: DESCRIPTION, detectedAt: detectedAt.toISOString(), affectedSubjects: 12, categories: ['APPLICANT'] } },
      'OPS',
      undefined,
      'ops-night',
    );
    expect(res.errors).toBeUndefined();
    const incident = res.data.reportBreach;
    expect(incident).toMatchObject({
      rule: 'BREACH_REPORTED',
      status: 'OPEN',
      detectedAt: detectedAt.toISOString(),
      notifyBy: notifyByOf(detectedAt),
      description: DESCRIPTION,
      openedBy: 'ops-night',
      affectedSubjects: 12,
      categories: ['APPLICANT'],
      breachReport: null,
    });
    // Whose actions it records is not known: no account can be refused deciding it as its own.
    expect(incident.actorId).toBe('system:unknown');
    // The DPO sees it among the incidents; the description goes into no event.
    const listed = await gw(`{ incidents(status: [OPEN]) { id rule } }`, {}, 'DPO');
    expect(listed.data.incidents).toContainEqual({ id: incident.id, rule: 'BREACH_REPORTED' });
    await quiescent(system);
    const raised = (await entriesAfter(system, '0')).filter((e) => e.event_type === 'incident.raised');
    expect(raised.map((e) => (e.details as { incidentId: string }).incidentId)).toContain(incident.id);
    expect(JSON.stringify(raised)).not.toContain('meeting room');
  });

  it('7.2.2: a breach found days ago is due the working day after its detection, and is overdue now', async () => {
    const detectedAt = new Date('2026-11-02T09:00:00+05:00');
    const res = await gw(
      REPORT_BREACH,
      { input: { description: 'A laptop with exported reports was lost on a business trip', detectedAt: detectedAt.toISOString() } },
      'DPO',
    );
    expect(res.data.reportBreach).toMatchObject({ notifyBy: notifyByOf(detectedAt), overdue: true, affectedSubjects: null, categories: null });
    expect((await gw(`{ overdueIncidents { id } }`, {}, 'AUDITOR')).data.overdueIncidents).toContainEqual({ id: res.data.reportBreach.id });
  });

  it('7.2.2 (bad input): no description, a time that is no time or to come, a negative count, an unknown category — one error each, kk/ru, nothing stored', async () => {
    const before = await incidentsStored();
    const bad = await gw(
      REPORT_BREACH,
      { input: { description: ' ', detectedAt: '2026-13-01T10:00:00+05:00', affectedSubjects: -3, categories: ['APPLICANT', 'CUSTOMER'] } },
      'DPO',
      'ru',
    );
    expect(bad.errors?.map((e) => [e.extensions?.code, e.extensions?.field, e.message]).sort()).toEqual([
      ['BAD_USER_INPUT', 'affectedSubjects', 'Число не может быть отрицательным'],
      ['BAD_USER_INPUT', 'categories.1', 'Такой категории субъектов нет'],
      ['BAD_USER_INPUT', 'description', 'Поле обязательно для заполнения'],
      ['BAD_USER_INPUT', 'detectedAt', 'Время должно быть в формате ISO 8601 с часовым поясом, например 2026-12-07T10:30:00+05:00'],
    ]);
    const kk = await gw(REPORT_BREACH, { input: { description: DESCRIPTION, detectedAt: '2026-12-07' } }, 'DPO', 'kk');
    expect(kk.errors?.map((e) => [e.extensions?.field, e.message])).toEqual([
      ['detectedAt', 'Уақыт ISO 8601 түрінде уақыт белдеуімен болуы керек, мысалы 2026-12-07T10:30:00+05:00'],
    ]);
    const future = await gw(REPORT_BREACH, { input: { description: DESCRIPTION, detectedAt: new Date(Date.now() + 86_400_000).toISOString() } }, 'DPO', 'kk');
    expect(future.errors?.map((e) => [e.extensions?.field, e.message])).toEqual([['detectedAt', 'Күн бүгіннен кейін болмауы керек']]);
    for (const role of ['OPERATOR', 'AUDITOR', 'PARTNER'] as const) {
      expect((await gw(REPORT_BREACH, { input: { description: DESCRIPTION, detectedAt: new Date().toISOString() } }, role)).errors?.[0]?.extensions?.code).toBe(
        'FORBIDDEN',
      );
    }
    expect(await incidentsStored()).toBe(before);
  });

  it('Order 481: reportIncident records the report’s content — the responsible person’s contacts, the measures, how subjects will be notified', async () => {
    const opened = await gw(REPORT_BREACH, { input: { description: DESCRIPTION, detectedAt: new Date().toISOString() } }, 'OPS');
    const id = opened.data.reportBreach.id;
    const reported = await gw(REPORT_INCIDENT, { id, reference: 'No. 14-2/881', details: DETAILS }, 'DPO', undefined, 'dpo-breaches');
    expect(reported.errors).toBeUndefined();
    expect(reported.data.reportIncident).toMatchObject({ status: 'REPORTED', reference: 'No. 14-2/881', breachReport: DETAILS });
    // The report's text stays with the incident: the event carries only a digest of the reference.
    await quiescent(system);
    const changed = (await entriesAfter(system, '0')).filter((e) => e.event_type === 'incident.status_changed');
    expect(JSON.stringify(changed)).not.toContain('Ахметов');
    expect(JSON.stringify(changed)).not.toContain('shredded');
  });

  it('Order 481 (bad input): a report with no contact, a phone that is no phone, no measures: one error per field, kk/ru, the incident stays open', async () => {
    const opened = await gw(REPORT_BREACH, { input: { description: DESCRIPTION, detectedAt: new Date().toISOString() } }, 'OPS');
    const id = opened.data.reportBreach.id;
    const bad = await gw(
      REPORT_INCIDENT,
      { id, reference: 'No. 1', details: { contactName: '', contactPhone: 'call the office', measures: '', subjectNotification: DETAILS.subjectNotification } },
      'DPO',
      'kk',
    );
    expect(bad.errors?.map((e) => [e.extensions?.field, e.message]).sort()).toEqual([
      ['details.contactName', 'Өріс толтырылуы керек'],
      ['details.contactPhone', 'Телефон нөмірі цифрлардан тұруы керек, мысалы +7 7172 123456'],
      ['details.measures', 'Өріс толтырылуы керек'],
    ]);
    const missing = await gw(`mutation($id: ID!) { reportIncident(id: $id, reference: "No. 2") { id } }`, { id }, 'DPO', 'ru');
    expect(missing.errors?.[0]?.extensions?.code).toBeDefined();
    const stored = await system
      .db('audit')
      .selectFrom('incidents')
      .select(['status', 'breach_report', 'reference'])
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    expect(stored).toEqual({ status: 'OPEN', breach_report: null, reference: null });
  });

  it('7.2.4: an incident opened by a report is in the control report of its period, with its notification day', async () => {
    const opened = await gw(REPORT_BREACH, { input: { description: DESCRIPTION, detectedAt: new Date().toISOString() } }, 'DPO');
    const { id, notifyBy } = opened.data.reportBreach;
    const today = kazakhstanToday();
    const report = await gw(
      `query($d: String!) { controlReport(from: $d, to: $d) { incidentsOpened incidents { id rule status notifyBy } document(locale: RU) } }`,
      { d: today },
      'CHAIRMAN',
    );
    expect(report.errors).toBeUndefined();
    expect(report.data.controlReport.incidents).toContainEqual({ id, rule: 'BREACH_REPORTED', status: 'OPEN', notifyBy });
    expect(report.data.controlReport.incidentsOpened).toBeGreaterThanOrEqual(1);
    expect(report.data.controlReport.document).toContain('BREACH_REPORTED');
  });

  it('7.2.2: opening an incident fires the PdpIncidentOpened alert of ops/prometheus/alerts.yml on the metrics the audit exports', async () => {
    const rules = readFileSync(new URL('../../ops/prometheus/alerts.yml', import.meta.url), 'utf8');
    const expr = /- alert: PdpIncidentOpened\n\s+expr: (.+)$/m.exec(rules)?.[1];
    const parsed = /^(sum|max)\((\w+)\{(\w+)="(\w+)"\}\) > (\d+)$/.exec(expr ?? '');
    expect(parsed, `PdpIncidentOpened expr: ${expr}`).not.toBeNull();
    const [, agg, metric, label, value, threshold] = parsed!;
    const evaluate = async () => {
      const samples = ((await registry.getSingleMetric(metric!)?.get())?.values ?? []).filter((v) => v.labels[label!] === value).map((v) => v.value);
      const result = samples.length === 0 ? null : agg === 'sum' ? samples.reduce((a, b) => a + b, 0) : Math.max(...samples);
      return result !== null && result > Number(threshold);
    };
    // Every incident so far decided: the alert is quiet.
    for (const i of (await gw(`{ incidents(status: [OPEN]) { id } }`, {}, 'DPO')).data.incidents as Array<{ id: string }>) {
      await gw(`mutation($id: ID!) { acknowledgeIncident(id: $id) { id } }`, { id: i.id }, 'DPO');
    }
    await eventually(async () => !(await evaluate()), 15_000, 'PdpIncidentOpened quiet');
    await gw(REPORT_BREACH, { input: { description: DESCRIPTION, detectedAt: new Date().toISOString() } }, 'OPS');
    await eventually(evaluate, 15_000, 'PdpIncidentOpened firing');
    expect(rules).toContain('runbook: docs/operations.md#pdpincidentopened');
  });
});
