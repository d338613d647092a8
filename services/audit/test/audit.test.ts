import { randomBytes } from 'node:crypto';
import type { RunningService } from '@pdp/shared';
import { callSubgraph, eventually, isolatedServiceConfig, publishEvent } from '@pdp/shared/testing';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Database } from '../src/db/tables';
import { startAudit, type AuditConfig } from '../src/service';

const auditor = { id: 'auditor-1', roles: ['AUDITOR' as const], creditorId: null };

describe('audit service', () => {
  let config: AuditConfig;
  let audit: RunningService<Database>;

  beforeAll(async () => {
    config = await isolatedServiceConfig(inject('serverUrl'), inject('natsUrl'), `${inject('runPrefix')}_audit_${randomBytes(2).toString('hex')}`, {});
    audit = await startAudit(config);
  });
  afterAll(async () => {
    await audit.stop();
  });

  const publish = (subjectId: string, actorId = 'dpo-1') =>
    publishEvent(config.natsUrl, config.eventsPrefix, {
      type: 'subject.blocked',
      source: 'subjects',
      actor: { id: actorId, roles: ['DPO'] },
      subjectId,
      data: { subjectId },
    });

  it('chains every event, and verification finds a tampered entry', async () => {
    const subjectId = crypto.randomUUID();
    for (let i = 0; i < 5; i += 1) await publish(subjectId);
    await eventually(async () => (await audit.db.selectFrom('audit_log').select('seq').execute()).length >= 5, 10_000, 'entries');

    const ok = await callSubgraph(audit.url, config.internalJwtSecret, auditor, '{ verifyAuditChain { valid entriesChecked firstInvalidSeq } }');
    expect(ok.data.verifyAuditChain).toMatchObject({ valid: true, entriesChecked: 5, firstInvalidSeq: null });

    const trail = await callSubgraph(audit.url, config.internalJwtSecret, auditor, `{ auditLog(subjectId: "${subjectId}") { seq operation actorId prevHash hash } }`);
    expect(trail.data.auditLog).toHaveLength(5);
    expect(trail.data.auditLog[1].prevHash).toBe(trail.data.auditLog[0].hash);
    expect(trail.data.auditLog[0].operation).toBe('BLOCK');

    // The table refuses changes; a superuser who disables the trigger is still caught by the chain.
    await expect(sql`update audit_log set actor_id = 'someone-else' where seq = 3`.execute(audit.db)).rejects.toThrow(/append-only/);
    await expect(sql`delete from audit_log`.execute(audit.db)).rejects.toThrow(/append-only/);
    await sql`alter table audit_log disable trigger audit_log_no_update`.execute(audit.db);
    const third = (await audit.db.selectFrom('audit_log').select('seq').orderBy('seq').offset(2).limit(1).executeTakeFirstOrThrow()).seq;
    await sql`update audit_log set actor_id = 'someone-else' where seq = ${third}`.execute(audit.db);
    await sql`alter table audit_log enable trigger audit_log_no_update`.execute(audit.db);
    const broken = await callSubgraph(audit.url, config.internalJwtSecret, auditor, '{ verifyAuditChain { valid firstInvalidSeq } }');
    expect(broken.data.verifyAuditChain).toEqual({ valid: false, firstInvalidSeq: third });
  });

  it('raises one incident when an actor keeps being denied', async () => {
    for (let i = 0; i < 6; i += 1) {
      await publishEvent(config.natsUrl, config.eventsPrefix, {
        type: 'access.denied',
        source: 'subjects',
        actor: { id: 'curious-partner', roles: ['PARTNER'] },
        data: { operation: 'subject.read', reason: 'ROLE' },
      });
    }
    await eventually(async () => (await audit.db.selectFrom('audit_log').select('seq').where('actor_id', '=', 'curious-partner').execute()).length === 6);
    const res = await callSubgraph(audit.url, config.internalJwtSecret, auditor, '{ incidents { rule actorId details } }');
    expect(res.data.incidents.filter((i: { actorId: string }) => i.actorId === 'curious-partner')).toEqual([
      { rule: 'REPEATED_DENIALS', actorId: 'curious-partner', details: JSON.stringify({ count: 5, windowMinutes: 10 }) },
    ]);
  });

  it('only auditors verify, and a refusal is itself recorded', async () => {
    const operator = { id: 'op-1', roles: ['OPERATOR' as const], creditorId: null };
    const res = await callSubgraph(audit.url, config.internalJwtSecret, operator, '{ verifyAuditChain { valid } }');
    expect(res.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    await eventually(async () => audit.db.selectFrom('audit_log').select('seq').where('actor_id', '=', 'op-1').where('operation', '=', 'DENIED').executeTakeFirst());
  });
});
