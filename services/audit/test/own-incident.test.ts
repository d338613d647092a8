import { kazakhstanToday } from '@pdp/shared';
import { eventually, publishEvent } from '@pdp/shared/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { startTestAudit, type TestAudit } from './support';

const dpo = (id: string) => ({ id, roles: ['DPO'], creditorId: null });
const step = (mutation: string) => `mutation($id: ID!) { ${mutation} { id status } }`;
const ACK = step('acknowledgeIncident(id: $id)');
const REPORT = step(
  'reportIncident(id: $id, reference: "No. 7", details: { contactName: "Ахметов Серік", contactPhone: "+7 7172 123456", measures: "Access revoked, passwords changed", subjectNotification: "Letters to each affected subject within 3 days" })',
);
const CLOSE = step('closeIncident(id: $id, note: "Mistyped ids, no breach")');

describe('an incident about a person is decided by someone else', () => {
  let audit: TestAudit;
  /** The REPEATED_DENIALS incident raised about dpo-1's own refusals. */
  let id: string;

  beforeEach(async () => {
    audit = await startTestAudit();
    for (let i = 0; i < 5; i += 1) {
      await publishEvent(audit.config.natsUrl, audit.config.eventsPrefix, {
        type: 'access.denied',
        source: 'subjects',
        actor: { id: 'dpo-1', roles: ['DPO'] },
        data: { operation: 'Query.subject', reason: 'PURPOSE' },
      });
    }
    id = await eventually(
      async () => {
        const list = (await audit.call('{ incidents { id rule actorId } }')).data.incidents as Array<{ id: string; rule: string; actorId: string }>;
        return list.find((i) => i.rule === 'REPEATED_DENIALS' && i.actorId === 'dpo-1')?.id;
      },
      10_000,
      "the incident about dpo-1's refusals",
    );
  });
  afterEach(async () => {
    await audit.stop();
  });

  it('its actor may not acknowledge, report or close it (FORBIDDEN, OWN_INCIDENT), whatever its status', async () => {
    const own = await audit.call(ACK, { id }, dpo('dpo-1'));
    expect(own.errors?.[0]).toMatchObject({
      message: 'Инцидент о ваших собственных действиях принимает, сообщает и закрывает другой сотрудник',
      extensions: { code: 'FORBIDDEN', reason: 'OWN_INCIDENT' },
    });
    expect((await audit.call(ACK, { id }, dpo('dpo-2'))).data.acknowledgeIncident.status).toBe('ACKNOWLEDGED');
    for (const mutation of [REPORT, CLOSE])
      expect((await audit.call(mutation, { id }, dpo('dpo-1'))).errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'OWN_INCIDENT' });
    expect((await audit.call(CLOSE, { id }, dpo('dpo-2'))).data.closeIncident.status).toBe('CLOSED');
  });

  it('each refusal is a denied attempt in the audit, and the control report counts them', async () => {
    for (const mutation of [ACK, REPORT]) expect((await audit.call(mutation, { id }, dpo('dpo-1'))).errors?.[0]?.extensions?.reason).toBe('OWN_INCIDENT');
    const own = await eventually(
      async () => {
        const rows = await audit.service.db
          .selectFrom('audit_log')
          .select(['actor_id', 'details'])
          .where('event_type', '=', 'access.denied')
          .where(sql`details->>'reason'`, '=', 'OWN_INCIDENT')
          .execute();
        return rows.length === 2 ? rows : null;
      },
      10_000,
      'both refusals recorded',
    );
    expect(own.map((r) => [r.actor_id, (r.details as { operation: string }).operation])).toEqual([
      ['dpo-1', 'Mutation.acknowledgeIncident'],
      ['dpo-1', 'Mutation.reportIncident'],
    ]);
    const today = kazakhstanToday();
    const report = await audit.call(`{ controlReport(from: "${today}", to: "${today}") { ownIncidentRefusals } }`, {}, dpo('dpo-2'));
    expect(report.data.controlReport.ownIncidentRefusals).toBe(2);
  });
});
