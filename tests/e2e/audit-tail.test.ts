import type { Role } from '@pdp/shared';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from '@pdp/shared/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isoMicros, type ChainEntry } from '../../services/audit/src/domain/chain';
import { asAttacker, replaceTail, tailFrom } from '../../services/audit/test/attacker';
import { auditHead, quiescent, runAuditScript } from '../support/audit';
import { graphql } from '../support/client';
import { startSystem } from '../support/fixtures';
import { intakeSubject } from '../support/intake';
import type { System } from '../support/system';

const READ = 'query($id: ID!) { subject(id: $id) { id status } }';

/**
 * The audit's newest entries, rewritten by someone with the audit's database login (who can disable
 * the triggers, knows the hashing rule and removes the checkpoints that would contradict the rewrite),
 * and then exported and verified by an auditor as usual, against last month's export. Whatever way the
 * tail is rewritten, `audit:verify` names the first entry that is not the audit's.
 */
describe("the audit's tail, rewritten in its database alone", () => {
  let system: System;
  const as = (role: Role, sub: string) => system.tokenFor([role], { sub });
  let dir: string;
  let subjectId: string;
  /** The last month's export, which the new one is verified against (`--previous`). */
  let previous: string;
  /** The entry the tail follows, covered by a checkpoint; the DPO's three reads; the head after two more reads. */
  let signed: bigint;
  let reads: bigint[];
  let head: bigint;

  /** Waits until the audit's newest checkpoint is of its head (it follows within a second). */
  const checkpointed = async () => {
    await quiescent(system);
    const at = await auditHead(system);
    await eventually(
      async () => (await system.db('audit').selectFrom('audit_checkpoints').select('seq').where('seq', '=', at).executeTakeFirst()) !== undefined,
      10_000,
      `a checkpoint of entry ${at}`,
    );
    return BigInt(at);
  };

  beforeEach(async () => {
    system = await startSystem({ audit: { checkpointSeconds: 1 } });
    dir = mkdtempSync(join(tmpdir(), 'pdp-audit-tail-'));
    ({ subjectId } = await intakeSubject(system));
    await quiescent(system);
    previous = join(dir, 'previous.ndjson');
    expect((await runAuditScript('audit-export', ['--url', system.url, '--out', previous], { AUDIT_TOKEN: await as('AUDITOR', 'auditor-tail') })).code).toBe(0);
    // Granted before the checkpoint: a grant is an entry of its own.
    const dpo = await as('DPO', 'dpo-tail');
    const other = await as('DPO', 'dpo-other');
    await quiescent(system);
    signed = await checkpointed();
    for (let i = 0; i < 3; i += 1) await graphql(system.url, READ, { id: subjectId }, { token: dpo });
    for (let i = 0; i < 2; i += 1) await graphql(system.url, READ, { id: subjectId }, { token: other });
    head = await checkpointed();
    const rows = await system.db('audit').selectFrom('audit_log').select('seq').where('actor_id', '=', 'dpo-tail').orderBy('seq').execute();
    reads = rows.map((r) => BigInt(r.seq));
    // The tail is the DPO's three reads and the other DPO's two, right after a checkpoint.
    expect([reads, head]).toEqual([[signed + 1n, signed + 2n, signed + 3n], signed + 5n]);
  });
  afterEach(async () => {
    await system.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  /** What an auditor does next: export through the gateway, verify offline against the previous export. */
  async function exportAndVerify(): Promise<{ code: number; out: string }> {
    const file = join(dir, 'audit.ndjson');
    const exported = await runAuditScript('audit-export', ['--url', system.url, '--out', file], { AUDIT_TOKEN: await as('AUDITOR', 'auditor-tail') });
    expect(exported.out).toMatch(/exported \d+ entries/);
    const pem = join(dir, 'audit.pem');
    writeFileSync(pem, system.auditKey.publicKeyPem);
    return runAuditScript('audit-verify', [file, '--public-key', pem, '--previous', previous]);
  }

  const attack = (tamper: (db: ReturnType<System['db']>) => Promise<void>) => {
    const db = system.db('audit');
    return asAttacker(db, () => tamper(db));
  };

  it('deleting the newest entries (the DPO’s three reads and what followed) is named at the first one deleted', async () => {
    await attack((db) => replaceTail(db, reads[0]!, []).then(() => undefined));
    expect(await exportAndVerify()).toMatchObject({ code: 1, out: expect.stringContaining(`TAMPERED at entry ${reads[0]} (TRUNCATED)`) });
  });

  it('deleting the DPO’s three reads and renumbering and re-chaining the rest is named at the first one deleted', async () => {
    await attack(async (db) => {
      const rest = (await tailFrom(db, reads[0]!)).filter((e) => e.actorId !== 'dpo-tail');
      await replaceTail(db, reads[0]!, rest);
    });
    expect(await exportAndVerify()).toMatchObject({ code: 1, out: expect.stringContaining(`TAMPERED at entry ${reads[0]} (TRUNCATED)`) });
  });

  it('editing one read and re-chaining every later entry is named at the edited one', async () => {
    await attack(async (db) => {
      const tail = await tailFrom(db, reads[0]!);
      await replaceTail(
        db,
        reads[0]!,
        tail.map((e, i) => (i === 0 ? { ...e, actorId: 'dpo-other' } : e)),
      );
    });
    expect(await exportAndVerify()).toMatchObject({ code: 1, out: expect.stringContaining(`TAMPERED at entry ${reads[0]} (CHECKPOINT_MISMATCH)`) });
  });

  it('appending an invented “chairman read an IIN” entry after the head is named at that entry', async () => {
    await attack(async (db) => {
      const [last] = await tailFrom(db, head);
      await replaceTail(db, head + 1n, [invented(last!, subjectId)]);
    });
    const verdict = await exportAndVerify();
    expect(verdict.code).toBe(1);
    // Named as not signed by the audit, or as slipped in before the audit's next entry (which links past it).
    expect(verdict.out).toMatch(new RegExp(`TAMPERED at entry ${head + 1n} \\((UNSIGNED|INSERTED)\\)`));
  });
});

/** A read that never happened: the chairman read the subject's IIN. */
function invented(after: ChainEntry, subjectId: string): ChainEntry {
  const now = isoMicros(new Date());
  return {
    ...after,
    eventId: randomUUID(),
    type: 'pd.accessed',
    operation: 'ACCESS',
    outcome: 'ALLOWED',
    source: 'subjects',
    actorId: 'chairman-1',
    actorRoles: ['CHAIRMAN'],
    purpose: 'SUBJECT_RIGHTS',
    subjectId,
    resource: 'subject',
    resourceIds: [subjectId],
    fields: ['iin'],
    occurredAt: now,
    recordedAt: now,
    details: { resource: 'subject', resourceIds: [subjectId], fields: ['iin'], operation: 'ACCESS' },
  };
}
