import { publishEvent, eventually } from '@pdp/shared/testing';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditor, startTestAudit, type TestAudit } from './support';

describe('audit service', () => {
  let audit: TestAudit;

  beforeAll(async () => {
    audit = await startTestAudit();
  });
  afterAll(async () => {
    await audit.stop();
  });

  it('chains every event with every field hashed, gap-free seqs, a signed checkpoint every N entries and of the head when verifying', async () => {
    await audit.record(12);
    const trail = await audit.call(
      '{ auditLog(limit: 12) { seq hashVersion operation outcome actorId purpose resource resourceIds fields prevHash hash recordedAt } }',
    );
    const entries = trail.data.auditLog;
    expect(entries.map((e: { seq: string }) => e.seq)).toEqual(['1', '2', '3', '4', '5', '6', '7', '8', '9', '10', '11', '12']);
    expect(entries[0]).toMatchObject({
      hashVersion: 2,
      operation: 'BLOCK',
      outcome: 'ALLOWED',
      actorId: 'dpo-1',
      purpose: 'SUBJECT_RIGHTS',
      resource: 'subject',
      fields: ['status'],
    });
    expect(entries[1].prevHash).toBe(entries[0].hash);
    expect(entries[0].recordedAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);

    const cps = await audit.call('{ auditCheckpoints { seq hash keyId origin signature note } }');
    expect(cps.data.auditCheckpoints.map((c: { seq: string }) => c.seq)).toEqual(['5', '10']);
    expect(cps.data.auditCheckpoints[1]).toMatchObject({ hash: entries[9].hash, keyId: 'test-1', origin: 'pdp.audit/test' });
    expect(cps.data.auditCheckpoints[1].note).toBe(
      `pdp.audit.checkpoint.v1\npdp.audit/test\n10\n${entries[9].hash}\n${cps.data.auditCheckpoints[1].note.split('\n')[4]}\ntest-1\n`,
    );

    const keys = await audit.call('{ auditKeys { keyId algorithm publicKeyPem signing } }');
    expect(keys.data.auditKeys).toEqual([{ keyId: 'test-1', algorithm: 'Ed25519', publicKeyPem: audit.key.publicKeyPem, signing: true }]);

    // Reading the log is itself recorded (entry 13: the auditor's read of entries 1–12).
    await eventually(async () => (await audit.count()) === 13, 5000, 'the read recorded');
    const read = await audit.service.db
      .selectFrom('audit_log')
      .select(['event_type', 'actor_id', 'resource', 'resource_ids'])
      .where('seq', '=', '13')
      .executeTakeFirstOrThrow();
    expect(read).toEqual({
      event_type: 'pd.accessed',
      actor_id: 'auditor-1',
      resource: 'audit_entry',
      resource_ids: entries.map((e: { seq: string }) => e.seq),
    });
    const ok = await audit.call('{ verifyAuditChain(full: true) { valid entriesChecked checkpointsChecked firstInvalidSeq verifiedThroughSeq } }');
    expect(ok.data.verifyAuditChain).toEqual({ valid: true, entriesChecked: 13, checkpointsChecked: 3, firstInvalidSeq: null, verifiedThroughSeq: '13' });
  });

  it('the table refuses changes; an edit with the trigger disabled is found, recorded_at included', async () => {
    await expect(sql`update audit_log set actor_id = 'someone-else' where seq = 3`.execute(audit.service.db)).rejects.toThrow(/append-only/);
    await expect(sql`delete from audit_log`.execute(audit.service.db)).rejects.toThrow(/append-only/);
    await expect(sql`delete from audit_checkpoints`.execute(audit.service.db)).rejects.toThrow(/append-only/);
    // A version-2 hash covers the audit's own clock: recorded_at moved by a second is an edit.
    const row = await audit.service.db.selectFrom('audit_log').select(['seq']).where('seq', '=', '3').executeTakeFirstOrThrow();
    await sql`alter table audit_log disable trigger audit_log_no_update`.execute(audit.service.db);
    await sql`update audit_log set recorded_at = recorded_at + interval '1 second' where seq = ${row.seq}`.execute(audit.service.db);
    await sql`alter table audit_log enable trigger audit_log_no_update`.execute(audit.service.db);
    const broken = await audit.call('{ verifyAuditChain(full: true) { valid firstInvalidSeq reason } }');
    expect(broken.data.verifyAuditChain).toEqual({ valid: false, firstInvalidSeq: '3', reason: 'HASH_MISMATCH' });
    // The failure is an incident itself, with the bad entry as evidence.
    await eventually(
      async () => {
        const res = await audit.call('{ incidents(status: [OPEN]) { rule evidence status notifyBy } }');
        return res.data.incidents.find((i: { rule: string }) => i.rule === 'AUDIT_TAMPERED');
      },
      5000,
      'AUDIT_TAMPERED incident',
    );
  });

  it('raises one incident when an actor keeps being denied, with the denials as evidence', async () => {
    for (let i = 0; i < 6; i += 1) {
      await publishEvent(audit.config.natsUrl, audit.config.eventsPrefix, {
        type: 'access.denied',
        source: 'subjects',
        actor: { id: 'curious-partner', roles: ['PARTNER'] },
        data: { operation: 'subject.read', reason: 'ROLE', creditorId: 'creditor-9' },
      });
    }
    await eventually(
      async () => (await audit.service.db.selectFrom('audit_log').select('seq').where('actor_id', '=', 'curious-partner').execute()).length === 6,
    );
    const res = await audit.call('{ incidents { rule actorId evidence status details entries { seq operation creditorId } } }');
    const mine = res.data.incidents.filter((i: { actorId: string }) => i.actorId === 'curious-partner');
    expect(mine.map((i: { rule: string }) => i.rule).sort()).toEqual(['REPEATED_DENIALS', 'SCOPE_PROBE']);
    const repeated = mine.find((i: { rule: string }) => i.rule === 'REPEATED_DENIALS');
    expect(repeated.status).toBe('OPEN');
    // Raised at the fifth denial, the sixth added as evidence.
    expect(repeated.evidence).toHaveLength(6);
    expect(repeated.entries.every((e: { operation: string; creditorId: string }) => e.operation === 'DENIED' && e.creditorId === 'creditor-9')).toBe(true);
  });

  it('only auditors verify, and a refusal is itself recorded', async () => {
    const operator = { id: 'op-1', roles: ['OPERATOR' as const], creditorId: null };
    const res = await audit.call('{ verifyAuditChain { valid } }', {}, operator);
    expect(res.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    await eventually(async () =>
      audit.service.db.selectFrom('audit_log').select('seq').where('actor_id', '=', 'op-1').where('operation', '=', 'DENIED').executeTakeFirst(),
    );
    expect(auditor.roles).toEqual(['AUDITOR']);
  });
});
