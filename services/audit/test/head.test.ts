import { randomUUID } from 'node:crypto';
import { createDb, natsSubject, streamName } from '@pdp/shared';
import { eventually } from '@pdp/shared/testing';
import { sql } from 'kysely';
import { connect } from 'nats';
import { afterEach, describe, expect, it } from 'vitest';
import { chainHead } from '../src/db/entries.repository';
import { isoMicros } from '../src/domain/chain';
import { signedByRecorder } from '../src/domain/head';
import { asAttacker, replaceTail, tailFrom } from './attacker';
import { startTestAudit, type TestAudit } from './support';

const CHECKPOINT = 'seq hash signedAt keyId signature origin';

/** The newest `audit.checkpointed` on the stream, and how many the stream holds. */
async function onStream(audit: TestAudit): Promise<{ seq: string | null; count: number }> {
  const nc = await connect({ servers: audit.config.natsUrl });
  try {
    const jsm = await nc.jetstreamManager();
    const subject = natsSubject(audit.config.eventsPrefix, 'audit.checkpointed');
    const info = await jsm.streams.info(streamName(audit.config.eventsPrefix), { subjects_filter: subject });
    const count = info.state.subjects?.[subject] ?? 0;
    if (count === 0) return { seq: null, count };
    const last = await jsm.streams.getMessage(streamName(audit.config.eventsPrefix), { last_by_subj: subject });
    return { seq: last.json<{ data: { seq: string } }>().data.seq, count };
  } finally {
    await nc.close();
  }
}

/** Waits until the newest stored checkpoint is of the head, and returns the head's seq. */
async function checkpointed(audit: TestAudit): Promise<bigint> {
  const head = (await chainHead(audit.service.db))!.seq;
  await eventually(
    async () => (await audit.service.db.selectFrom('audit_checkpoints').select('seq').where('seq', '=', head).executeTakeFirst()) !== undefined,
    5000,
    `a checkpoint of ${head}`,
  );
  return BigInt(head);
}

describe('the recorder signs only the heads it wrote', () => {
  let audit: TestAudit;
  afterEach(async () => {
    await audit?.stop();
  });

  it("every append signs its new head: the database's head carries the recorder's signature", async () => {
    audit = await startTestAudit({ checkpointEvery: 1000 });
    await audit.record(3);
    const head = (await chainHead(audit.service.db))!;
    const keys = audit.config.extra.checkpointKeys.verify;
    expect(signedByRecorder('pdp.audit/test', head, (id) => keys.get(id))).toMatchObject({ seq: head.seq, hash: head.hash, keyId: 'test-1' });
  });

  it('a checkpoint of the head follows within a second, in the database and on the stream', async () => {
    audit = await startTestAudit({ checkpointEvery: 1000, checkpointSeconds: 1 });
    await audit.record(3);
    const started = Date.now();
    const head = await checkpointed(audit);
    expect(Date.now() - started).toBeLessThan(2000);
    const witness = await eventually(async () => (await audit.call(`{ auditWitness { ${CHECKPOINT} } }`)).data.auditWitness, 2000, 'the witness');
    const stored = (await audit.call(`{ auditCheckpoints(afterSeq: "${head - 1n}") { ${CHECKPOINT} } }`)).data.auditCheckpoints[0];
    expect(witness).toEqual(stored);
    expect((await onStream(audit)).seq).toBe(String(head));
  });

  it('nothing is signed or published again while the head does not move', async () => {
    audit = await startTestAudit({ checkpointEvery: 1000, checkpointSeconds: 1 });
    await audit.record(2);
    await checkpointed(audit);
    await eventually(async () => (await onStream(audit)).count === 1, 2000, 'the checkpoint published');
    const stored = await audit.service.db.selectFrom('audit_checkpoints').select('seq').execute();
    await new Promise((r) => setTimeout(r, 2500));
    expect(await audit.service.db.selectFrom('audit_checkpoints').select('seq').execute()).toEqual(stored);
    expect((await onStream(audit)).count).toBe(1);
  });

  it('an entry appended by someone else is refused: checkpointAudit answers CONFLICT (AUDIT_TAMPERED) and an incident names it', async () => {
    audit = await startTestAudit({ checkpointEvery: 1000 });
    await audit.record(3);
    const head = BigInt((await chainHead(audit.service.db))!.seq);
    await asAttacker(audit.service.db, async () => {
      const [last] = await tailFrom(audit.service.db, head);
      await replaceTail(audit.service.db, head + 1n, [
        { ...last!, eventId: randomUUID(), actorId: 'chairman-1', actorRoles: ['CHAIRMAN'], recordedAt: isoMicros(new Date()) },
      ]);
    });
    const res = await audit.call(`mutation { checkpointAudit { ${CHECKPOINT} } }`);
    expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', reason: 'AUDIT_TAMPERED', firstInvalidSeq: String(head + 1n), finding: 'INSERTED' });
    expect(res.errors?.[0]?.message).toBe('Последние записи журнала аудита записаны не службой аудита: журнал изменён, подпись не ставится');
    const incident = await eventually(
      async () => {
        const list = (await audit.call('{ incidents { rule evidence } }')).data.incidents as Array<{ rule: string; evidence: string[] }>;
        return list.find((i) => i.rule === 'AUDIT_TAMPERED');
      },
      5000,
      'the AUDIT_TAMPERED incident',
    );
    expect(incident.evidence).toEqual([String(head + 1n)]);
  });

  it('the recorder goes on from its own head, past an entry it did not write, so that no later signature covers it', async () => {
    audit = await startTestAudit({ checkpointEvery: 1000 });
    await audit.record(3);
    const head = (await chainHead(audit.service.db))!;
    await asAttacker(audit.service.db, async () => {
      const [last] = await tailFrom(audit.service.db, BigInt(head.seq));
      await replaceTail(audit.service.db, BigInt(head.seq) + 1n, [
        { ...last!, eventId: randomUUID(), actorId: 'chairman-1', recordedAt: isoMicros(new Date()) },
      ]);
    });
    await audit.record(1);
    // The invented entry is head + 1; the audit's next ones (the incident it raised, the event) follow it, linked to its own head.
    const [after] = await tailFrom(audit.service.db, BigInt(head.seq) + 2n);
    expect(after).toMatchObject({ seq: String(BigInt(head.seq) + 2n), prevHash: head.hash });
    const verified = await audit.call('{ verifyAuditChain(full: true) { valid firstInvalidSeq reason } }');
    expect(verified.data.verifyAuditChain).toEqual({ valid: false, firstInvalidSeq: String(BigInt(head.seq) + 1n), reason: 'INSERTED' });
  });

  it('after a restart, a tail cut back together with its checkpoints is found against the newest checkpoint on the stream', async () => {
    audit = await startTestAudit({ checkpointEvery: 1000, checkpointSeconds: 1 });
    await audit.record(4);
    const kept = await checkpointed(audit);
    await audit.record(2);
    const head = await checkpointed(audit);
    await eventually(async () => (await onStream(audit)).seq === String(head), 2000, 'the head witnessed');
    await audit.stop();
    // While the audit is down: its last two entries, their checkpoints and every verification record go.
    const db = createDb(audit.config.databaseUrl, 1);
    try {
      await asAttacker(db, async () => {
        await replaceTail(db, kept + 1n, []);
        await sql`delete from audit_verifications`.execute(db);
      });
    } finally {
      await db.destroy();
    }
    await audit.restart();
    const incident = await eventually(
      async () => {
        const list = (await audit.call('{ incidents { rule evidence details } }')).data.incidents as Array<{
          rule: string;
          evidence: string[];
          details: string;
        }>;
        return list.find((i) => i.rule === 'AUDIT_TAMPERED');
      },
      5000,
      'the AUDIT_TAMPERED incident',
    );
    expect([incident.evidence, JSON.parse(incident.details).reason]).toEqual([[String(kept + 1n)], 'TRUNCATED']);
  });

  it('after an upgrade, the head written by the earlier version (no head signatures yet) is taken over, not refused', async () => {
    audit = await startTestAudit({ checkpointEvery: 2 });
    await audit.record(3);
    await audit.stop();
    // What the earlier version left: the same chain and checkpoints, no head signatures.
    const db = createDb(audit.config.databaseUrl, 1);
    try {
      await asAttacker(db, async () => void (await sql`update audit_log set head_key_id = null, head_signature = null`.execute(db)));
    } finally {
      await db.destroy();
    }
    await audit.restart();
    await audit.record(1);
    expect((await audit.call('{ verifyAuditChain(full: true) { valid } }')).data.verifyAuditChain.valid).toBe(true);
    expect((await audit.call('{ incidents { rule } }')).data.incidents).toEqual([]);
  });

  it("the checkpoint key is nowhere in the audit's database", async () => {
    audit = await startTestAudit({ checkpointEvery: 2, checkpointSeconds: 1 });
    await audit.record(5);
    await checkpointed(audit);
    await audit.call('{ verifyAuditChain(full: true) { valid } }');
    const secret = (audit.key.entry.key as { d: string }).d;
    const tables = await sql<{ name: string }>`select table_name as name from information_schema.tables where table_schema = 'public'`.execute(
      audit.service.db,
    );
    expect(tables.rows.length).toBeGreaterThan(5);
    for (const { name } of tables.rows) {
      const { rows } = await sql<{ text: string | null }>`select string_agg(t::text, '') as text from ${sql.table(name)} t`.execute(audit.service.db);
      expect(rows[0]?.text ?? '', name).not.toContain(secret);
    }
  });
});
