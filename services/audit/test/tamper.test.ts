import { generateKeyPairSync } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import { eventually } from '@pdp/shared/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { entriesBetween } from '../src/db/entries.repository';
import type { Database } from '../src/db/tables';
import { signCheckpoint, type ChainEntry } from '../src/domain/chain';
import { asAttacker, rechain } from './attacker';
import { startTestAudit, type TestAudit } from './support';

/** Each kind of tampering by someone with the database login (attacker.ts) must be caught by verifyAuditChain. */
const VERIFY = '{ verifyAuditChain(full: true) { valid firstInvalidSeq reason detail } }';

/** Writes entries back as they are given (every column the hash covers), by their current seq. */
async function overwrite(db: Kysely<Database>, entries: ChainEntry[], seqOf: (e: ChainEntry) => string = (e) => e.seq): Promise<void> {
  for (const e of entries) {
    await sql`update audit_log set seq = ${e.seq}, details = ${JSON.stringify(e.details)}::jsonb, actor_id = ${e.actorId},
      prev_hash = ${e.prevHash}, hash = ${e.hash} where seq = ${seqOf(e)}`.execute(db);
  }
}

describe('tampering with the audit by someone with database access', () => {
  let audit: TestAudit;
  const start = async () => {
    audit = await startTestAudit({ checkpointEvery: 5 });
    await audit.record(20); // checkpoints at 5, 10, 15, 20
    return audit.service.db;
  };
  afterEach(async () => {
    await audit?.stop();
  });

  it('an edited entry (any field) is named', async () => {
    const db = await start();
    await asAttacker(db, async () => {
      await sql`update audit_log set details = jsonb_set(details, '{subjectId}', '"00000000-0000-4000-8000-000000000000"') where seq = 7`.execute(db);
    });
    expect((await audit.call(VERIFY)).data.verifyAuditChain).toMatchObject({ valid: false, firstInvalidSeq: '7', reason: 'HASH_MISMATCH' });
  });

  it('a deleted entry is a gap in seq', async () => {
    const db = await start();
    await asAttacker(db, async () => void (await sql`delete from audit_log where seq = 8`.execute(db)));
    expect((await audit.call(VERIFY)).data.verifyAuditChain).toMatchObject({ valid: false, firstInvalidSeq: '8', reason: 'SEQ_GAP' });
  });

  it('reordered entries break the links', async () => {
    const db = await start();
    await asAttacker(db, async () => {
      await sql`update audit_log set seq = -1 where seq = 11`.execute(db);
      await sql`update audit_log set seq = 11 where seq = 12`.execute(db);
      await sql`update audit_log set seq = 12 where seq = -1`.execute(db);
    });
    expect((await audit.call(VERIFY)).data.verifyAuditChain).toMatchObject({ valid: false, firstInvalidSeq: '11', reason: 'LINK_BROKEN' });
  });

  it('a cut-off tail is caught by the checkpoint that covered it', async () => {
    const db = await start();
    await asAttacker(db, async () => void (await sql`delete from audit_log where seq >= 16`.execute(db)));
    expect((await audit.call(VERIFY)).data.verifyAuditChain).toMatchObject({ valid: false, firstInvalidSeq: '16', reason: 'TRUNCATED' });
  });

  it('a tail cut off with its checkpoint: the service remembers, and after a restart the signed verification record does', async () => {
    const db = await start();
    expect((await audit.call(VERIFY)).data.verifyAuditChain.valid).toBe(true);
    const cut = async () => {
      await sql`delete from audit_log where seq >= 16`.execute(db);
      await sql`delete from audit_checkpoints where seq >= 16`.execute(db);
    };
    await asAttacker(db, cut);
    expect((await audit.call(VERIFY)).data.verifyAuditChain).toMatchObject({ valid: false, firstInvalidSeq: '16', reason: 'TRUNCATED' });
    // The finding is an incident, itself chained after the cut — as entry 21, linked to entry 20: the
    // head the audit wrote, not the one the database was cut back to.
    await eventually(async () => (await audit.count()) === 16, 10_000, 'the AUDIT_TAMPERED incident recorded');
    expect((await entriesBetween(db, '15', '100', 10)).map((e) => [e.seq, e.type])).toEqual([['21', 'incident.raised']]);

    // A fresh process knows only what the database says: the signed record of the last valid run (through 20).
    const { config } = audit;
    await audit.stop();
    const { startAudit } = await import('../src/service');
    const restarted = await startAudit(config);
    try {
      const { callSubgraph } = await import('@pdp/shared/testing');
      const res = await callSubgraph(restarted.url, 'audit', { id: 'auditor-1', roles: ['AUDITOR'], creditorId: null }, VERIFY);
      expect(res.data.verifyAuditChain).toMatchObject({ valid: false, firstInvalidSeq: '16', reason: 'TRUNCATED' });
      // A forged "verified" record (no key to sign it) is ignored, not trusted.
      await asAttacker(restarted.db, async () => {
        await sql`insert into audit_verifications (verified_at, full_run, valid, entries_checked, head_seq, through_seq, through_hash, key_id, signature)
          select now(), true, true, 15, 15, 15, hash, 'test-1', 'forged' from audit_log where seq = 15`.execute(restarted.db);
      });
      const again = await callSubgraph(restarted.url, 'audit', { id: 'auditor-1', roles: ['AUDITOR'], creditorId: null }, VERIFY.replace('(full: true)', ''));
      expect(again.data.verifyAuditChain).toMatchObject({ valid: false, reason: 'TRUNCATED' });
    } finally {
      await restarted.stop();
      audit = { ...audit, stop: async () => undefined };
    }
  });

  it('removing an entry and relinking the rest is caught by the signed checkpoints', async () => {
    const db = await start();
    const all = await entriesBetween(db, '0', '20', 100);
    const kept = all.filter((e) => e.seq !== '8').map((e, i) => ({ ...e, seq: String(i + 1) }));
    const relinked = [...kept.slice(0, 7), ...rechain(kept.slice(7), 8n, kept[6]!.hash)];
    await asAttacker(db, async () => {
      await sql`delete from audit_log where seq = 8`.execute(db);
      await sql`update audit_log set seq = seq + 1000 where seq > 8`.execute(db);
      await overwrite(db, relinked.slice(7), (e) => String(Number(e.seq) + 1001));
    });
    expect((await audit.call(VERIFY)).data.verifyAuditChain).toMatchObject({ valid: false, firstInvalidSeq: '6', reason: 'CHECKPOINT_MISMATCH' });
  });

  it('a consistent rewrite (an edit and every later hash recomputed) is caught by the signed checkpoints', async () => {
    const db = await start();
    const all = await entriesBetween(db, '0', '20', 100);
    const edited = all.map((e) => (e.seq === '12' ? { ...e, actorId: 'someone-else' } : e));
    await asAttacker(db, () => overwrite(db, [...edited.slice(0, 11), ...rechain(edited.slice(11), 12n, edited[10]!.hash)]));
    expect((await audit.call(VERIFY)).data.verifyAuditChain).toMatchObject({ valid: false, firstInvalidSeq: '11', reason: 'CHECKPOINT_MISMATCH' });
  });

  it('…and re-signing the checkpoints without the key does not help', async () => {
    const db = await start();
    const all = await entriesBetween(db, '0', '20', 100);
    const rewritten = rechain(all.map((e) => (e.seq === '12' ? { ...e, actorId: 'someone-else' } : e)).slice(11), 12n, all[10]!.hash);
    const { privateKey } = generateKeyPairSync('ed25519');
    await asAttacker(db, async () => {
      await overwrite(db, rewritten);
      for (const seq of ['15', '20']) {
        const hash = rewritten.find((e) => e.seq === seq)!.hash;
        const cp = signCheckpoint(
          { origin: 'pdp.audit/test', seq, hash, signedAt: new Date().toISOString().replace('Z', '000Z'), keyId: 'test-1' },
          privateKey,
        );
        await sql`update audit_checkpoints set hash = ${cp.hash}, signature = ${cp.signature} where seq = ${seq}`.execute(db);
      }
    });
    expect((await audit.call(VERIFY)).data.verifyAuditChain).toMatchObject({ valid: false, firstInvalidSeq: '15', reason: 'CHECKPOINT_SIGNATURE' });
  });

  it('verification resumes after the last verified checkpoint: its cost grows with the new entries', async () => {
    await start();
    const full = await audit.call('{ verifyAuditChain(full: true) { valid entriesChecked verifiedThroughSeq } }');
    expect(full.data.verifyAuditChain).toEqual({ valid: true, entriesChecked: 20, verifiedThroughSeq: '20' });
    await audit.record(7);
    const incremental = await audit.call('{ verifyAuditChain { valid full entriesChecked resumedFromSeq verifiedThroughSeq headSeq } }');
    // Verification first makes a checkpoint of the head the recorder wrote: it goes through 27.
    expect(incremental.data.verifyAuditChain).toEqual({
      valid: true,
      full: false,
      entriesChecked: 7,
      resumedFromSeq: '20',
      verifiedThroughSeq: '27',
      headSeq: '27',
    });
    await audit.record(2);
    const next = await audit.call('{ verifyAuditChain { entriesChecked resumedFromSeq } }');
    expect(next.data.verifyAuditChain).toEqual({ entriesChecked: 2, resumedFromSeq: '27' });
  });
});
