import { randomUUID } from 'node:crypto';
import { streamName } from '@pdp/shared';
import { eventually, publishEvent } from '@pdp/shared/testing';
import { connect } from 'nats';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestAudit, type TestAudit } from './support';

/**
 * Someone holding a service's NATS credentials pulls and acknowledges messages from the audit's
 * durable consumer while the audit is down, so that the audit is never given them. The audit's
 * reconciliation compares the stream's sequence numbers it was acknowledged for with those it
 * recorded.
 */
async function stealFromRecorder(audit: TestAudit, count: number, remove = false): Promise<number[]> {
  const nc = await connect({ servers: audit.config.natsUrl });
  try {
    const stream = streamName(audit.config.eventsPrefix);
    const consumer = await nc.jetstream().consumers.get(stream, 'audit-recorder');
    const taken: number[] = [];
    const messages = await consumer.fetch({ max_messages: count, expires: 5000 });
    for await (const m of messages) {
      await m.ackAck();
      taken.push(m.seq);
      if (taken.length === count) break;
    }
    if (remove) {
      const jsm = await nc.jetstreamManager();
      for (const seq of taken) await jsm.streams.deleteMessage(stream, seq);
    }
    return taken;
  } finally {
    await nc.close();
  }
}

async function blockedWhileDown(audit: TestAudit, n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i += 1) {
    const subjectId = randomUUID();
    const e = await publishEvent(audit.config.natsUrl, audit.config.eventsPrefix, {
      type: 'subject.blocked',
      source: 'subjects',
      actor: { id: 'dpo-1', roles: ['DPO'] },
      subjectId,
      data: { subjectId },
    });
    ids.push(e.id);
  }
  return ids;
}

describe('what the audit recorded, reconciled with the stream', () => {
  let audit: TestAudit;
  afterEach(async () => {
    await audit?.stop();
  });

  it('messages acknowledged by someone else on its consumer are read back from the stream by number and recorded', async () => {
    audit = await startTestAudit({ reconcileSeconds: 1 });
    await audit.record(2);
    await audit.service.stop();
    const ids = await blockedWhileDown(audit, 3);
    expect(await stealFromRecorder(audit, 3)).toHaveLength(3);
    await audit.restart();
    await eventually(async () => (await audit.count()) === 5, 10_000, 'the taken events recorded');
    const recorded = await audit.service.db.selectFrom('audit_log').select('event_id').where('event_id', 'in', ids).execute();
    expect(recorded).toHaveLength(3);
  });

  it('one acknowledged by someone else and gone from the stream is an AUDIT_GAP incident naming its number, with no payload', async () => {
    audit = await startTestAudit({ reconcileSeconds: 1 });
    await audit.record(2);
    await audit.service.stop();
    const [id] = await blockedWhileDown(audit, 1);
    const [seq] = await stealFromRecorder(audit, 1, true);
    await audit.restart();
    const incident = await eventually(
      async () => {
        const list = (await audit.call('{ incidents { rule actorId evidence details } }')).data.incidents as Array<{
          rule: string;
          actorId: string;
          evidence: string[];
          details: string;
        }>;
        return list.find((i) => i.rule === 'AUDIT_GAP');
      },
      10_000,
      'the AUDIT_GAP incident',
    );
    expect(incident).toMatchObject({ actorId: 'system:audit-reconciliation', evidence: [] });
    expect(JSON.parse(incident.details)).toMatchObject({ fromStreamSeq: seq, toStreamSeq: seq, messages: 1 });
    expect(await audit.service.db.selectFrom('audit_log').select('seq').where('event_id', '=', id!).execute()).toEqual([]);
  });

  it('a message the recorder refused and parked is not taken for a gap: it is neither read back nor recorded twice', async () => {
    audit = await startTestAudit({ reconcileSeconds: 1 });
    await audit.record(1);
    // Unsigned: the recorder refuses it, parks it and records the refusal (event.rejected).
    const nc = await connect({ servers: audit.config.natsUrl });
    try {
      const forged = {
        id: randomUUID(),
        type: 'subject.blocked',
        version: 1,
        occurredAt: new Date().toISOString(),
        source: 'subjects',
        actor: { id: 'dpo-1', roles: ['DPO'] },
        subjectId: null,
        correlationId: null,
        data: { subjectId: randomUUID() },
      };
      await nc.jetstream().publish(`${audit.config.eventsPrefix}.events.subject.blocked`, JSON.stringify(forged));
    } finally {
      await nc.close();
    }
    const rejected = () => audit.service.db.selectFrom('audit_log').select('seq').where('event_type', '=', 'event.rejected').execute();
    await eventually(async () => (await rejected()).length === 1, 10_000, 'the refusal recorded');
    const progress = async () => (await audit.service.db.selectFrom('audit_reconciliation').select('through_seq').executeTakeFirst())?.through_seq;
    const start = await progress();
    await eventually(async () => (await progress()) !== start, 10_000, 'a reconciliation round past it');
    expect(await rejected()).toHaveLength(1);
    expect(await audit.service.db.selectFrom('parked_events').select('id').execute()).toHaveLength(1);
  });
});
